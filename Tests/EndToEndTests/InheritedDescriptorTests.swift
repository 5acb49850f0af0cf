import Foundation
import Testing

/// claude-agentd closes the descriptors it inherits by accident (a parent's that were not
/// close-on-exec), as ssh-agent does with closefrom(), and keeps those passed on purpose:
/// standard input, output and error, the socket a service manager passes, and a file
/// named by descriptor on the command line.
@Suite("inherited descriptors", .serialized)
struct InheritedDescriptorTests {
    /// What each descriptor of `pid` from 3 up is open on, from /proc/PID/fd.
    static func descriptors(of pid: Int32) throws -> [Int32: String] {
        var result: [Int32: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") {
            guard let fd = Int32(name), fd > 2 else { continue }
            result[fd] = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(name)")
        }
        return result
    }

    /// Without the closing, the 100 strays count against the 320 open files, the agent
    /// fails accept() with EMFILE near 210 connections and clients get a reset, not `busy`.
    /// And the agent keeps the socket Foundation's Process watches for its exit: closed,
    /// this test process would wait for the agent in waitpid on the thread that sees every
    /// child exit, and the CLI runs below would never finish.
    @Test("100 inherited descriptors are closed at start: under 320 open files the agent still takes 256 connections and answers busy past them")
    func straysDoNotLowerTheCap() throws {
        ResourceLimitTests.raiseOpenFiles(to: 2048)
        let sandbox = try Sandbox()
        let socket = sandbox.root + "/agent.sock"
        let process = Process()
        // 100 descriptors on /dev/null that are not close-on-exec, as a careless parent
        // leaves them, at the lowest free numbers (fixed ones could land on the descriptor
        // Foundation's Process watches for the child's exit). python3 then execs prlimit,
        // which execs the agent: the pid is the agent's.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", """
            import os, sys
            for _ in range(100):
                os.set_inheritable(os.open("/dev/null", os.O_RDONLY), True)
            os.execv("/usr/bin/prlimit", ["prlimit", "--nofile=320:320", "--", sys.argv[1], "-a", sys.argv[2]])
            """, Binaries.daemon, socket]
        process.environment = sandbox.environment
        // The log goes nowhere: an agent out of descriptors logs each failed accept, and a
        // pipe no one reads until the end would fill and stop it.
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let daemon = Daemon(process: process, socket: socket, log: Pipe())
        try daemon.waitUntilListening()
        let strays = try Self.descriptors(of: process.processIdentifier).filter { $0.value == "/dev/null" }
        #expect(strays.isEmpty, "still open: \(strays.keys.sorted())")
        var open: [RawConnection] = []
        defer { for connection in open { connection.close() } }
        for _ in 0..<256 { open.append(try RawConnection(path: socket)) }
        #expect(try open[255].call(#"{"id": 1, "op": "hello"}"#)["ok"] as? Bool == true)
        for _ in 0..<10 {
            let result = try sandbox.cli("token", "-a", socket)
            #expect(result.status == 7, "\(result.stderr)")
            #expect(result.stderr.hasPrefix("claude-agent: busy: "), "\(result.stderr)")
        }
        #expect(try open[0].call(#"{"id": 2, "op": "status"}"#)["ok"] as? Bool == true)
    }

    /// systemd-socket-activate closes every other descriptor itself; what is checked here
    /// is that the agent's closing spares the passed one.
    @Test("a socket passed by the service manager (descriptor 3) is kept and served",
          .enabled(if: ServiceManagerTests.hasActivate, "needs systemd-socket-activate (Debian's systemd)"))
    func passedSocketKept() throws {
        let sandbox = try Sandbox()
        let socket = sandbox.runtimeDirectory + "/agent.sock"
        try bundle("at-activated").write(toFile: sandbox.root + "/bundle.json", atomically: true, encoding: .utf8)
        let result = try sandbox.run("/bin/bash", ["-c", """
            i=0
            \(ServiceManagerTests.activate) -l \(socket) -- \(Binaries.daemon) 2>/dev/null &
            service=$!
            while [ ! -S \(socket) ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
            claude-agent add --account alice -a \(socket) < \(sandbox.root)/bundle.json >/dev/null
            claude-agent token -a \(socket)
            ls /proc/$service/fd | sort -n | tr '\\n' ' '; echo
            kill -TERM $service; wait $service; echo "exit $?"
            """], environment: ["PATH": Binaries.directory + ":/usr/bin:/bin"])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(result.stdout) \(result.stderr)")
        #expect(lines.first == "at-activated", "\(result.stderr)")
        let held = Set((lines.dropFirst().first ?? "").split(separator: " ").compactMap { Int32($0) })
        #expect(held.contains(3), "descriptor 3, the passed socket: \(held.sorted())")
        #expect(lines.last == "exit 0")
    }

    @Test("a file named by descriptor (serve --import <(...)) stays open and is imported")
    func namedDescriptorKept() throws {
        let sandbox = try Sandbox()
        let socket = sandbox.root + "/agent.sock"
        let expiresMs = Int(Date().timeIntervalSince1970 * 1000) + 3_600_000
        let credentials = sandbox.root + "/credentials.json"
        try #"{"claudeAiOauth": {"accessToken": "at-from-a-pipe", "refreshToken": "rt-pipe", "expiresAt": \#(expiresMs), "scopes": ["user:inference"]}}"#
            .write(toFile: credentials, atomically: true, encoding: .utf8)
        // bash gives the process substitution as /dev/fd/63, not close-on-exec; serve execs
        // the agent in its place, so the agent inherits it.
        let result = try sandbox.run("/bin/bash", ["-c", """
            claude-agent serve -a \(socket) --import <(cat \(credentials)) 2>/dev/null &
            agent=$!
            i=0
            until claude-agent status -a \(socket) >/dev/null 2>&1 || [ $i -ge 400 ]; do sleep 0.05; i=$((i+1)); done
            claude-agent token -a \(socket)
            kill -TERM $agent; wait $agent; echo "exit $?"
            """], environment: ["PATH": Binaries.directory + ":/usr/bin:/bin"])
        #expect(result.stdout == "at-from-a-pipe\nexit 0\n", "\(result.stderr)")
    }
}
