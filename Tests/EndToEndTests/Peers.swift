import AgentPOSIX
import AgentProtocol
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The repository root (tests run from anywhere).
enum Repository {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static var python: String { root + "/.venv/bin/python" }
    static var peers: String { root + "/Tests/Peers" }
}

/// A long-running helper process that prints `READY <url>` on stdout when it serves.
final class PeerProcess {
    let process = Process()
    let url: String
    private let output = Pipe()

    init(_ script: String, _ arguments: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: Repository.python) else {
            throw TestFailure("the test peers are not installed: run scripts/test-peers-setup (scripts/test does)")
        }
        process.executableURL = URL(fileURLWithPath: Repository.python)
        process.arguments = [Repository.peers + "/" + script] + arguments
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        var line = Data()
        let fd = output.fileHandleForReading.fileDescriptor
        var byte: UInt8 = 0
        while !line.contains(UInt8(ascii: "\n")) {
            let count = Glibc.read(fd, &byte, 1)
            // A signal (another test's child exiting) can interrupt the wait: read again.
            if count == -1 && errno == EINTR { continue }
            guard count == 1 else { throw TestFailure("\(script) exited before it was ready (read: \(count), errno \(errno))") }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("READY ") else { throw TestFailure("\(script) said \(text)") }
        url = String(text.dropFirst(6))
    }

    var port: Int { Int(url.split(separator: ":").last ?? "0") ?? 0 }

    /// SIGKILL: a child started from a Dispatch thread inherits a mask that blocks SIGTERM.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// django-oauth-toolkit on 127.0.0.1: a real OAuth server with PKCE, rotation, revocation.
final class OAuthServer {
    let peer: PeerProcess
    let stateDirectory: String
    let accessTokenSeconds: Int
    /// Whether this server made its state directory (a restarted server reuses another's).
    private let ownsStateDirectory: Bool

    init(accessTokenSeconds: Int = 4, port: Int = 0, stateDirectory: String? = nil) throws {
        self.stateDirectory = stateDirectory ?? NSTemporaryDirectory() + "oauth-" + UUID().uuidString.prefix(8)
        ownsStateDirectory = stateDirectory == nil
        self.accessTokenSeconds = accessTokenSeconds
        peer = try PeerProcess("oauth_server.py", ["--port", String(port), "--access-token-seconds", String(accessTokenSeconds),
                                                   "--state-dir", self.stateDirectory])
    }

    deinit {
        peer.stop()
        if ownsStateDirectory { try? FileManager.default.removeItem(atPath: stateDirectory) }
    }

    var url: String { peer.url }

    /// A configuration file for the agent naming this server as the default provider
    /// (with `redirectURI` as its configured `redirect_uri`, when given).
    func writeConfig(in sandbox: Sandbox, controlBrowser: String = "http://127.0.0.1:9", redirectURI: String? = nil) throws -> String {
        let path = sandbox.root + "/config.json"
        let redirect = redirectURI.map { #""redirect_uri": "\#($0)", "# } ?? ""
        let config = """
            {"default_provider": "test", "control_browser_url": "\(controlBrowser)",
             "providers": {"test": {"client_id": "claude-agent-test", "authorize_url": "\(url)/o/authorize/",
               "token_url": "\(url)/o/token/", "revocation_url": "\(url)/o/revoke_token/", \(redirect)
               "scopes": ["user:inference", "user:profile"], "token_request_encoding": "form"}}}
            """
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `GET /api/whoami` with the token: the user name, or nil when the server refuses it.
    func whoami(_ token: String) throws -> String? {
        let (status, body) = try http("GET", "/api/whoami", headers: ["Authorization": "Bearer \(token)"])
        guard status == 200 else { return nil }
        return (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["user"] as? String
    }

    /// Token endpoint requests counted by grant type.
    func tokenRequests(_ grant: String) throws -> Int {
        let (_, body) = try http("GET", "/test/stats")
        let stats = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        return (stats?["token_requests"] as? [String: Any])?[grant] as? Int ?? 0
    }

    func resetStats() throws { _ = try http("POST", "/test/reset") }

    /// Makes the token endpoint sleep before answering.
    func delayTokenEndpoint(seconds: Double) throws { _ = try http("POST", "/test/delay?seconds=\(seconds)") }

    /// Uses a refresh token directly: the OAuth error code, or nil when it worked.
    func refreshError(_ refreshToken: String) throws -> String? {
        let body = "grant_type=refresh_token&client_id=claude-agent-test&refresh_token=\(refreshToken)"
        let (status, data) = try http("POST", "/o/token/", body: body)
        if status == 200 { return nil }
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["error"] as? String ?? "HTTP \(status)"
    }

    func revoke(_ refreshToken: String) throws {
        let body = "token=\(refreshToken)&token_type_hint=refresh_token&client_id=claude-agent-test"
        let (status, _) = try http("POST", "/o/revoke_token/", body: body)
        #expect(status == 200)
    }

    /// Logs `user` in with PKCE the way a client would (via the browser script) and
    /// returns the token endpoint's answer.
    func obtainTokens(user: String) throws -> [String: Any] {
        let result = try Sandbox.runPeer("obtain_tokens.py", ["--server", url, "--user", user, "--password", "\(user)-password"])
        guard result.status == 0, let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw TestFailure("obtain_tokens failed: \(result.stderr)")
        }
        return json
    }

    func http(_ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil) throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: url + path)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        }
        return try HTTP.send(request)
    }
}

/// The stand-in control browser: serves /open-auth and logs in as the account's user.
final class ControlBrowser {
    let peer: PeerProcess

    init(accounts: String = "1=alice:alice-password,2=bob:bob-password,3=carol:carol-password", extra: [String] = []) throws {
        peer = try PeerProcess("control_browser.py", ["--port", "0", "--accounts", accounts] + extra)
    }

    var url: String { peer.url }
}

enum HTTP {
    static func send(_ request: URLRequest) throws -> (Int, Data) {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, Data)?
        nonisolated(unsafe) var failure: Error?
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { failure = error } else { result = ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()) }
            done.signal()
        }.resume()
        done.wait()
        if let failure { throw failure }
        return result ?? (0, Data())
    }
}

extension Sandbox {
    /// Runs a peer script to completion.
    static func runPeer(_ script: String, _ arguments: [String]) throws -> CommandResult {
        let sandbox = try Sandbox()
        return try sandbox.run(Repository.python, [Repository.peers + "/" + script] + arguments, timeout: 60)
    }

    /// Starts a CLI command in the background; returns the process and its stdout/stderr pipes.
    func background(_ arguments: [String], environment extra: [String: String] = [:]) throws -> BackgroundCommand {
        try BackgroundCommand(Binaries.cli, arguments, environment: environment.merging(extra) { _, new in new })
    }
}

/// A command running while the test does other things.
final class BackgroundCommand: @unchecked Sendable {
    // `stdoutData`, `stderrData`, `reading` and `ended` are guarded by `lock` (the pipes'
    // readability handlers run on Foundation's threads); the rest is `let` (Process and
    // Pipe are thread-safe, though not marked Sendable).
    let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    private var stdoutData = Data()
    private var stderrData = Data()
    /// Handlers between taking bytes from a pipe and appending them.
    private var reading = 0
    /// The pipes whose handler has read end of file.
    private var ended: Set<Int32> = []
    private let lock = NSLock()
    /// How often the waits below look again.
    static let pollMilliseconds: Int64 = 5

    init(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        collect(out, isStandardOutput: true)
        collect(err, isStandardOutput: false)
        try process.run()
    }

    /// Appends what `pipe` gives to `stdoutData` or `stderrData`, until end of file. The
    /// handler reads without blocking (Foundation's `availableData` blocks when a wake-up
    /// finds nothing, and a blocked handler could not be told from a busy one).
    private func collect(_ pipe: Pipe, isStandardOutput: Bool) {
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        try? FileDescriptor(rawValue: descriptor).setNonBlocking()
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            guard let self else { return }
            lock.withLock { reading += 1 }
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            var atEnd = false
            reads: while true {
                switch FileDescriptor(rawValue: descriptor).readAvailable(into: &buffer) {
                case .bytes(let count):
                    lock.withLock {
                        if isStandardOutput { stdoutData += buffer[0..<count] } else { stderrData += buffer[0..<count] }
                    }
                case .endOfFile, .failed:
                    atEnd = true
                    break reads
                case .wouldBlock:
                    break reads
                }
            }
            lock.withLock {
                if atEnd { ended.insert(descriptor) }
                reading -= 1
            }
            if atEnd { handle.readabilityHandler = nil }
        }
    }

    /// Whether the handlers have taken every byte written so far: each pipe has ended or
    /// holds nothing unread, and no handler is between its read and its append. End of
    /// file alone cannot tell: a process started meanwhile (an agent, another command)
    /// may have inherited a pipe's writing end and keep it open.
    private var collectedAll: Bool {
        for pipe in [out, err] {
            let descriptor = pipe.fileHandleForReading.fileDescriptor
            if lock.withLock({ ended.contains(descriptor) }) { continue }
            if (try? waitFor(FileDescriptor(rawValue: descriptor), .readable, timeoutMilliseconds: 0)) != false { return false }
        }
        // Checked after the pipes: bytes a handler took from them are appended by now
        // unless it is still counted here.
        return lock.withLock { reading == 0 }
    }

    var stdout: String { lock.withLock { String(decoding: stdoutData, as: UTF8.self) } }
    var stderr: String { lock.withLock { String(decoding: stderrData, as: UTF8.self) } }

    /// Waits until stdout holds a complete first line and returns it.
    func firstLine(timeoutMilliseconds: Int64 = 20_000) throws -> String {
        var line: String?
        let printed = try eventually(timeoutMilliseconds: timeoutMilliseconds, pollMilliseconds: Self.pollMilliseconds) {
            let text = stdout
            if let newline = text.firstIndex(of: "\n") {
                line = String(text[..<newline])
                return true
            }
            if !process.isRunning { throw TestFailure("exited before printing a line: \(stderr)") }
            return false
        }
        guard printed, let line else { throw TestFailure("no line on stdout within \(timeoutMilliseconds) ms; stderr: \(stderr)") }
        return line
    }

    /// Waits until stderr holds `line` (a server saying it listens); throws, naming `what`
    /// and quoting its stderr, when it does not within `timeoutMilliseconds`.
    func waitUntilStarted(saying line: String, _ what: String, timeoutMilliseconds: Int64 = 10_000) throws {
        guard try eventually(timeoutMilliseconds: timeoutMilliseconds, { stderr.contains(line) }) else {
            throw TestFailure("\(what) did not start: \(stderr)")
        }
    }

    /// Waits for the exit and until the handlers have collected every byte the command
    /// wrote, and returns the exit status.
    func wait(timeoutMilliseconds: Int64 = 60_000) throws -> Int32 {
        let deadline = Clock.monotonicMilliseconds().saturatingAdding(timeoutMilliseconds)
        guard try eventually(timeoutMilliseconds: timeoutMilliseconds, pollMilliseconds: Self.pollMilliseconds, { !process.isRunning }) else {
            kill(process.processIdentifier, SIGKILL)
            throw TestFailure("still running after \(timeoutMilliseconds) ms; stderr: \(stderr)")
        }
        let left = max(0, deadline - Clock.monotonicMilliseconds())
        guard try eventually(timeoutMilliseconds: left, pollMilliseconds: Self.pollMilliseconds, { collectedAll }) else {
            throw TestFailure("exited, but its output was not all collected within \(timeoutMilliseconds) ms; stderr: \(stderr)")
        }
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// Polls `condition` every `pollMilliseconds` until it holds or `timeoutMilliseconds`
/// pass on the monotonic clock; returns whether it held.
func eventually(timeoutMilliseconds: Int64 = 20_000, pollMilliseconds: Int64 = 50,
                _ condition: () throws -> Bool) throws -> Bool {
    let deadline = Clock.monotonicMilliseconds().saturatingAdding(timeoutMilliseconds)
    while true {
        if try condition() { return true }
        if Clock.monotonicMilliseconds() >= deadline { return false }
        Clock.sleep(milliseconds: pollMilliseconds)
    }
}

/// Waits until the agent counts its token as expired: until `expires_at` in `token --json`
/// less the agent's `--skew` has passed on the wall clock (a real server's token expires on
/// it). Throws when the agent hands out no token with an expiry.
func waitUntilTokenExpires(_ sandbox: Sandbox, socket: String, skewSeconds: Int64) throws {
    let json = try sandbox.cli("token", "--json", "-a", socket).stdout
    let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    guard let text = object?["expires_at"] as? String, let expiresAt = ISO8601DateFormatter().date(from: text) else {
        throw TestFailure("token --json gave no expires_at: \(json)")
    }
    let moment = expiresAt.addingTimeInterval(-Double(skewSeconds))
    let untilMilliseconds = Int64(max(0, moment.timeIntervalSinceNow) * 1000)
    guard try eventually(timeoutMilliseconds: untilMilliseconds + 10_000, { Date() >= moment }) else {
        throw TestFailure("the token did not expire")
    }
}
