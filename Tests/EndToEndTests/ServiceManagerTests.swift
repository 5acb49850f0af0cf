import Foundation
import Testing

/// A datagram socket that plays systemd's `NOTIFY_SOCKET` (sd_notify(3)): a path, or an
/// abstract name when `abstract` (given to the agent as `@name`).
final class NotifyListener {
    let fd: Int32
    /// The value for `NOTIFY_SOCKET`.
    let address: String

    init(directory: String, abstract: Bool) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let name = abstract ? "claude-agent-notify-" + UUID().uuidString.prefix(8) : directory + "/notify.sock"
        address = abstract ? "@" + name : name
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        let bytes = (abstract ? [0] : []) + Array(name.utf8)
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let result = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard result == 0 else { throw TestFailure("bind \(address): errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// The next datagram, or a failure after 10 s without one.
    func receive() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw TestFailure("no notification within 10 s") }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }
}

/// claude-agentd under a service manager, without one running: `systemd-socket-activate`
/// (Debian's systemd package) passes the socket as systemd would, and a datagram listener
/// plays `NOTIFY_SOCKET`.
@Suite("systemd: socket activation and readiness")
struct ServiceManagerTests {
    static let activate = "/usr/bin/systemd-socket-activate"
    static var hasActivate: Bool { FileManager.default.isExecutableFile(atPath: activate) }

    /// Runs `script` with sh, with `$ACTIVATE` (systemd-socket-activate), `$DAEMON`, the
    /// binaries on PATH and `$LOG` a file for the service's standard error. The whole life
    /// of the activated agent is in the script, which waits for it: the service manager
    /// is the script's child, as it would be systemd's.
    func script(_ sandbox: Sandbox, _ body: String) throws -> (CommandResult, log: String) {
        let log = sandbox.root + "/service.log"
        let prelude = """
            set -u
            # Waits (at most 10 s) for the socket systemd-socket-activate makes.
            wait_for_socket() { i=0; while [ ! -S "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; }

            """
        let result = try sandbox.shell(prelude + body, environment: ["ACTIVATE": Self.activate, "DAEMON": Binaries.daemon, "LOG": log])
        return (result, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test("a socket passed by the service manager serves tokens, and stays after the agent exits",
          .enabled(if: hasActivate, "needs systemd-socket-activate (Debian's systemd)"))
    func passedSocketServes() throws {
        let sandbox = try Sandbox()
        let socket = sandbox.runtimeDirectory + "/agent.sock"
        try bundle("at-activated").write(toFile: sandbox.root + "/bundle.json", atomically: true, encoding: .utf8)
        let (result, log) = try script(sandbox, """
            "$ACTIVATE" -l \(socket) -- "$DAEMON" 2>"$LOG" &
            service=$!
            wait_for_socket \(socket)
            claude-agent add --account alice -a \(socket) < \(sandbox.root)/bundle.json >/dev/null
            claude-agent token -a \(socket)
            claude-agent status -a \(socket) | grep '^socket'
            kill -TERM $service; wait $service; echo "exit $?"
            [ -S \(socket) ] && echo "socket kept"
            """)
        #expect(result.stdout == "at-activated\nsocket    \(socket)\nexit 0\nsocket kept\n", "\(result.stderr)")
        #expect(log.contains("listening on \(socket) (passed by the service manager)"), "\(log)")
    }

    @Test("the peer-uid check applies to a passed socket",
          .enabled(if: hasActivate && getuid() == 0, "needs systemd-socket-activate, and root to switch to uid 65534"))
    func passedSocketChecksPeer() throws {
        let sandbox = try Sandbox()
        let open = "/tmp/claude-agent-activated-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: open) }
        chmod(open, 0o777)
        let socket = open + "/agent.sock"
        try FileManager.default.copyItem(atPath: Binaries.cli, toPath: open + "/claude-agent")
        try bundle("at-secret").write(toFile: sandbox.root + "/bundle.json", atomically: true, encoding: .utf8)
        // A world-writable socket, so only the agent's SO_PEERCRED check stands between
        // another uid and the tokens.
        let (result, log) = try script(sandbox, """
            "$ACTIVATE" -l \(socket) -- "$DAEMON" 2>"$LOG" &
            service=$!
            wait_for_socket \(socket)
            chmod 666 \(socket)
            claude-agent add --account alice -a \(socket) < \(sandbox.root)/bundle.json >/dev/null
            setpriv --reuid=65534 --regid=65534 --clear-groups \(open)/claude-agent token -a \(socket); echo "other $?"
            claude-agent token -a \(socket)
            kill -TERM $service; wait $service; echo "exit $?"
            """)
        #expect(result.stdout == "other 1\nat-secret\nexit 0\n", "\(result.stderr)")
        #expect(log.contains("refused a connection from uid 65534"), "\(log)")
    }

    @Test("passed descriptors that are not one listening Unix stream socket are refused at start",
          .enabled(if: hasActivate, "needs systemd-socket-activate (Debian's systemd)"))
    func unusablePassedSockets() throws {
        let sandbox = try Sandbox()
        let first = sandbox.runtimeDirectory + "/agent.sock", second = sandbox.runtimeDirectory + "/second.sock"
        // Two sockets; then a datagram socket (started by a datagram, via python3's socket).
        let (result, log) = try script(sandbox, """
            "$ACTIVATE" -l \(first) -l \(second) -- "$DAEMON" 2>"$LOG" &
            service=$!
            wait_for_socket \(second)
            claude-agent status -a \(first) >/dev/null 2>&1
            wait $service; echo "two: exit $?"
            rm -f \(first)
            "$ACTIVATE" --datagram -l \(first) -- "$DAEMON" 2>>"$LOG" &
            service=$!
            wait_for_socket \(first)
            python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"x", sys.argv[1])' \(first)
            wait $service; echo "datagram: exit $?"
            """)
        #expect(result.stdout == "two: exit 7\ndatagram: exit 7\n", "\(result.stderr)")
        #expect(log.contains("claude-agentd: start_failed: 2 sockets passed (LISTEN_FDS); the agent listens on exactly one"), "\(log)")
        #expect(log.contains("claude-agentd: start_failed: the passed descriptor is not a listening Unix stream socket"), "\(log)")
    }

    @Test("READY=1 with MAINPID once the socket answers, STOPPING=1 at SIGTERM", arguments: [false, true])
    func readiness(abstract: Bool) throws {
        let sandbox = try Sandbox()
        let listener = try NotifyListener(directory: sandbox.runtimeDirectory, abstract: abstract)
        let socket = sandbox.runtimeDirectory + "/agent.sock"
        let agent = try BackgroundCommand(Binaries.daemon, ["-a", socket],
                                          environment: sandbox.environment.merging(["NOTIFY_SOCKET": listener.address]) { _, new in new })
        let ready = try listener.receive()
        #expect(ready == "READY=1\nMAINPID=\(agent.process.processIdentifier)")
        // Ready means ready: the socket answers now, with no retry.
        #expect(try sandbox.cli("status", "-a", socket).status == 0)
        kill(agent.process.processIdentifier, SIGTERM)
        #expect(try listener.receive() == "STOPPING=1")
        #expect(try agent.wait() == 0)
    }

    @Test("a notification socket no one listens on is logged, and the agent serves anyway")
    func readinessWithoutListener() throws {
        let sandbox = try Sandbox()
        let socket = sandbox.runtimeDirectory + "/agent.sock"
        let agent = try BackgroundCommand(Binaries.daemon, ["-a", socket],
                                          environment: sandbox.environment.merging(["NOTIFY_SOCKET": sandbox.root + "/none.sock"]) { _, new in new })
        #expect(try eventually { (try? sandbox.cli("status", "-a", socket).status) == 0 })
        kill(agent.process.processIdentifier, SIGTERM)
        #expect(try agent.wait() == 0)
        #expect(agent.stderr.contains("could not notify the service manager: sendto \(sandbox.root)/none.sock: No such file or directory"),
                "\(agent.stderr)")
    }

    /// MemoryDenyWriteExecute= in the unit: the kernel's PR_SET_MDWE (Linux 6.3) refuses
    /// the same mappings systemd's seccomp filter does (writable and executable at once, or
    /// made executable later), and like it is inherited across fork and exec.
    static let mdweAvailable: Bool = {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        probe.arguments = ["-c", "import ctypes, sys; sys.exit(0 if ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) == 0 else 1)"]
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    @Test("the agent and its HTTPS helper run with memory write-or-execute enforced (MemoryDenyWriteExecute)",
          .enabled(if: mdweAvailable, "needs PR_SET_MDWE (Linux 6.3 or later) and python3"))
    func memoryDenyWriteExecute() throws {
        let sandbox = try Sandbox()
        let socket = sandbox.runtimeDirectory + "/agent.sock"
        let config = sandbox.root + "/config.json"
        // An HTTPS token endpoint where nothing listens: the refresh runs claude-agent-fetch
        // (Foundation, libcurl) to the point of connecting, and its answer says how it failed.
        try """
            {"default_provider": "test",
             "providers": {"test": {"client_id": "claude-agent-test", "authorize_url": "http://127.0.0.1:9/o/authorize/",
               "token_url": "https://127.0.0.1:9/o/token/", "scopes": ["user:inference"]}}}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let script = "import ctypes, os, sys; assert ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) == 0; os.execv(sys.argv[1], sys.argv[1:])"
        let agent = try BackgroundCommand("/usr/bin/python3", ["-c", script, Binaries.daemon, "-a", socket, "--config", config],
                                          environment: sandbox.environment)
        #expect(try eventually { (try? sandbox.cli("status", "-a", socket).status) == 0 }, "\(agent.stderr)")
        #expect(try sandbox.cli("add", "--account", "alice", "-a", socket, stdin: bundle("at-mdwe")).status == 0)
        #expect(try sandbox.cli("token", "-a", socket).stdout == "at-mdwe\n")
        let stale = #"{"access_token": "at-stale", "refresh_token": "rt-x", "expires_in": 5, "scope": "user:inference"}"#
        #expect(try sandbox.cli("add", "--account", "bob", "-a", socket, stdin: stale).status == 0)
        let refresh = try sandbox.cli("token", "--account", "bob", "-a", socket)
        #expect(refresh.status == 4)
        // The helper's own answer (URLSession's), not a crash or a refused mapping.
        #expect(refresh.stderr.contains("https://127.0.0.1:9/o/token/ unreachable: connection refused"), "\(refresh.stderr)")
        #expect(!refresh.stderr.contains("killed by signal"), "\(refresh.stderr)")
        #expect(!refresh.stderr.contains("exited with status"), "\(refresh.stderr)")
        kill(agent.process.processIdentifier, SIGTERM)
        #expect(try agent.wait() == 0)
    }
}
