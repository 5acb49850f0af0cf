import Foundation
import Testing

/// Where `swift build` put the binaries: beside the test bundle.
enum Binaries {
    static let directory: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }()
    static var cli: String { directory + "/claude-agent" }
    static var daemon: String { directory + "/claude-agentd" }
}

/// What a finished command printed and how it exited.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A private XDG_RUNTIME_DIR and environment for one test, and helpers to run commands in it.
final class Sandbox {
    let root: String
    let runtimeDirectory: String
    var environment: [String: String]
    /// Agents started here live as long as the sandbox (tests often keep only the socket).
    private var daemons: [Daemon] = []

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        root = base + "/claude-agent-test-" + UUID().uuidString.prefix(8)
        runtimeDirectory = root + "/run"
        try FileManager.default.createDirectory(atPath: runtimeDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        environment = [
            "PATH": "/usr/bin:/bin",
            "HOME": root,
            "XDG_RUNTIME_DIR": runtimeDirectory,
            "SHELL": "/bin/sh",
        ]
    }

    deinit {
        for daemon in daemons where daemon.process.isRunning {
            daemon.process.terminate()
            daemon.process.waitUntilExit()
        }
        // Stop any agent left behind, then remove the files.
        if FileManager.default.fileExists(atPath: defaultSocket) {
            _ = try? run(Binaries.cli, ["stop", "-a", defaultSocket])
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    var defaultSocket: String { runtimeDirectory + "/claude-agent/agent.sock" }

    /// Runs `executable` to completion with this sandbox's environment.
    @discardableResult
    func run(_ executable: String, _ arguments: [String], stdin: String? = nil,
             environment extra: [String: String] = [:], timeout: TimeInterval = 30) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment.merging(extra) { _, new in new }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child cannot fill one and block.
        let outData = CollectedBytes(), errData = CollectedBytes()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outData.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            throw TestFailure("\(executable) \(arguments) did not finish within \(timeout) s")
        }
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: outData.data, as: UTF8.self),
                             stderr: String(decoding: errData.data, as: UTF8.self))
    }

    /// Runs the CLI.
    @discardableResult
    func cli(_ arguments: String..., stdin: String? = nil, environment: [String: String] = [:]) throws -> CommandResult {
        try run(Binaries.cli, arguments, stdin: stdin, environment: environment)
    }

    /// Runs a shell script with the binaries first on PATH.
    @discardableResult
    func shell(_ script: String, environment extra: [String: String] = [:]) throws -> CommandResult {
        try run("/bin/sh", ["-c", script], environment: ["PATH": Binaries.directory + ":/usr/bin:/bin"].merging(extra) { _, new in new })
    }

    /// Starts `claude-agentd` in the foreground as a child and waits for its socket;
    /// with `openFiles`, under that limit on open descriptors (util-linux's prlimit,
    /// which execs the daemon, so the pid is the daemon's).
    /// With `quiet`, its log goes nowhere: a test that makes it log tens of thousands of
    /// lines would otherwise fill the log pipe, which is read only at the end.
    func startDaemon(_ arguments: [String] = [], socket: String? = nil, openFiles: Int? = nil,
                     quiet: Bool = false) throws -> Daemon {
        let path = socket ?? defaultSocket
        let process = Process()
        let daemonArguments = (socket.map { ["-a", $0] } ?? []) + arguments
        if let openFiles {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
            process.arguments = ["--nofile=\(openFiles):\(openFiles)", "--", Binaries.daemon] + daemonArguments
        } else {
            process.executableURL = URL(fileURLWithPath: Binaries.daemon)
            process.arguments = daemonArguments
        }
        process.environment = environment
        let err = Pipe()
        process.standardError = quiet ? FileHandle.nullDevice : err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let daemon = Daemon(process: process, socket: path, log: err)
        daemons.append(daemon)
        try daemon.waitUntilListening()
        return daemon
    }
}

/// A claude-agentd child process.
final class Daemon {
    let process: Process
    let socket: String
    let log: Pipe

    init(process: Process, socket: String, log: Pipe) {
        self.process = process
        self.socket = socket
        self.log = log
    }

    deinit { if process.isRunning { process.terminate(); process.waitUntilExit() } }

    func waitUntilListening() throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let connection = try? RawConnection(path: socket) { connection.close(); return }
            if !process.isRunning { throw TestFailure("claude-agentd exited with \(process.terminationStatus)") }
            usleep(5000)
        }
        throw TestFailure("claude-agentd did not listen on \(socket)")
    }

    /// Sends `signal` and waits for the exit status.
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Everything logged so far (after the process ended).
    var logText: String { String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A raw protocol connection for tests that send exact bytes.
final class RawConnection {
    let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if result != 0 {
            let code = errno
            Glibc.close(fd)
            throw TestFailure("connect \(path): errno \(code)")
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func close() { Glibc.close(fd) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    static func frame(_ json: String) -> [UInt8] {
        let payload = Array(json.utf8)
        let n = UInt32(payload.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + payload
    }

    func send(json: String) { send(Self.frame(json)) }

    /// Reads one frame's payload as a JSON object; nil when the agent closed the connection.
    func receive() throws -> [String: Any]? {
        guard let header = read(4) else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        guard let payload = read(length) else { throw TestFailure("truncated answer") }
        return try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]
    }

    /// Sends a request and returns the answer.
    func call(_ json: String) throws -> [String: Any] {
        send(json: json)
        guard let answer = try receive() else { throw TestFailure("the agent closed the connection") }
        return answer
    }

    /// Whether the agent still serves this connection: a `status` request is answered ok.
    func isServed() throws -> Bool {
        try call(#"{"id": 1, "op": "status"}"#)["ok"] as? Bool == true
    }

    /// Whether the agent closed the connection (EOF before any byte).
    func isClosedByPeer() -> Bool { read(1) == nil }

    private func read(_ count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, UnsafeMutableRawBufferPointer(rebasing: $0[got...]).baseAddress, count - got, 0) }
            if n <= 0 { return nil }
            got += n
        }
        return buffer
    }
}

/// A daemon in its own sandbox and one raw connection to it, held together so that none
/// is torn down while the test talks to the others.
struct ConnectedAgent {
    let sandbox: Sandbox
    let daemon: Daemon
    let connection: RawConnection

    init(_ arguments: [String] = []) throws {
        sandbox = try Sandbox()
        daemon = try sandbox.startDaemon(arguments)
        connection = try RawConnection(path: daemon.socket)
    }
}

extension [String: Any] {
    var errorCode: String? { (self["error"] as? [String: Any])?["code"] as? String }
    var result: [String: Any]? { self["result"] as? [String: Any] }
}

/// A token bundle as `claude-agent add` reads it.
func bundle(_ token: String, scopes: String = "user:inference user:profile", expiresIn: Int = 3600,
            refresh: String? = nil) -> String {
    let expiry = ISO8601DateFormatter().string(from: Date().addingTimeInterval(TimeInterval(expiresIn)))
    let refreshField = refresh.map { #", "refresh_token": "\#($0)""# } ?? ""
    return #"{"access_token": "\#(token)", "expires_at": "\#(expiry)", "token_type": "Bearer", "scope": "\#(scopes)"\#(refreshField)}"#
}

/// One pipe's bytes, handed from the thread that reads the pipe to the waiting test.
final class CollectedBytes: @unchecked Sendable {
    // Written by its one reader thread only; read only after the DispatchGroup that
    // thread leaves is done waiting (never after a time-out, when it may still be writing).
    var data = Data()
}
