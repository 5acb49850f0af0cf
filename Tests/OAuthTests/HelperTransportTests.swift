import AgentPOSIX
import AgentTransport
import Dispatch
import Foundation
import OAuth
import Testing

/// The claude-agent-fetch that `swift build` put beside this test bundle.
enum BuiltHelper {
    static let directory: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }()
    static var path: String { directory + "/" + HelperTransport.executableName }
}

/// A directory of stand-in helpers (shell scripts) that misbehave in one way each.
final class StandIns: @unchecked Sendable {
    // Immutable after init.
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.path + "/claude-agent-fetch-test-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// An executable script named `name` with `body` after the `#!/bin/sh` line.
    ///
    /// Written through a close-on-exec descriptor: other tests start processes from other
    /// threads meanwhile, and a child that inherited a descriptor open for writing would
    /// make running the script fail with ETXTBSY for as long as that child lives.
    func script(_ name: String, _ body: String) throws -> String {
        let path = directory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw HelperTestFailure("cannot create \(path): errno \(errno)") }
        let bytes = Array(("#!/bin/sh\n" + body + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { throw HelperTestFailure("cannot write \(path)") }
        return path
    }
}

@Suite("The helper transport: one claude-agent-fetch per exchange")
struct HelperTransportTests {
    static let provider = ProviderConfiguration(
        name: "test", clientID: "test-client", authorizationEndpoint: "http://127.0.0.1/authorize", tokenEndpoint: "http://127.0.0.1:9/o/token/",
        revocationEndpoint: nil, scopes: ["user:inference"], clientSecret: nil, tokenRequestEncoding: .form, userAgent: "oauth-tests/1.0")

    /// A refresh through `helper`, expected to fail; returns the error and the client.
    static func refresh(through helper: String, timeoutMilliseconds: Int64 = 5_000) throws -> (OAuthError, TokenEndpointClient) {
        let client = TokenEndpointClient(provider: provider, transport: HelperTransport(path: helper), timeoutMilliseconds: timeoutMilliseconds,
                                         maxAttempts: 3, initialBackoffMilliseconds: 10)
        do {
            _ = try client.refresh(refreshToken: "rt-secret", scopes: nil, now: { 0 })
        } catch {
            return (error, client)
        }
        throw HelperTestFailure("the refresh succeeded through \(helper)")
    }

    @Test("the helper is found beside the running executable")
    func locatesSibling() {
        #expect(HelperTransport.locate() == BuiltHelper.path)
        #expect(FileSystem.isExecutable(BuiltHelper.path), "swift build puts claude-agent-fetch beside the test bundle")
    }

    @Test("a missing helper is a transient error that says so, and is not retried")
    func missing() throws {
        let (error, client) = try Self.refresh(through: "/nonexistent/claude-agent-fetch")
        #expect(error.kind == .transient)
        #expect(error.status == nil)
        #expect(error.message == "token endpoint http://127.0.0.1:9/o/token/ not reached: cannot run claude-agent-fetch: "
                + "posix_spawn /nonexistent/claude-agent-fetch: No such file or directory")
        #expect(client.attemptCount == 1)
    }

    @Test("a helper that exits, crashes or garbles without an answer is a transient error naming how", arguments: [
        ("exit 3", "claude-agent-fetch failed: exited with status 3"),
        ("kill -SEGV $$", "claude-agent-fetch failed: killed by signal 11"),
        ("cat >/dev/null; echo hello", "claude-agent-fetch failed: the answer is not JSON"),
        ("cat >/dev/null; echo '{\"status\": 200}'", "claude-agent-fetch failed: the answer's body is not base64"),
        ("cat >/dev/null; echo '{\"refused\": \"no\"}'", "no"),
    ])
    func broken(body: String, reason: String) throws {
        let standIns = try StandIns()
        let (error, client) = try Self.refresh(through: try standIns.script("helper", body))
        #expect(error.kind == .transient)
        #expect(error.message == "token endpoint http://127.0.0.1:9/o/token/ not reached: \(reason)")
        #expect(client.attemptCount == 1)
    }

    @Test("a helper that hangs is killed after the time-out and its grace, and counts as timed out")
    func hangs() throws {
        let standIns = try StandIns()
        let helper = try standIns.script("helper", "exec sleep 30")
        let transport = HelperTransport(path: helper)
        let started = Date()
        let outcome = transport.send(HTTPExchange(method: "GET", url: "http://127.0.0.1:9/", timeoutMilliseconds: 500))
        let elapsed = Date().timeIntervalSince(started)
        #expect(outcome == .failed("timed out after 0.5 s"))
        #expect(elapsed >= 2.4, "\(elapsed) s")
    }

    @Test("the helper reads the request from standard input and nothing secret is in its arguments")
    func requestOnStandardInput() throws {
        let standIns = try StandIns()
        let seen = standIns.directory + "/seen"
        let arguments = standIns.directory + "/arguments"
        let helper = try standIns.script("helper", """
            echo "$0 $*" > \(arguments)
            cat > \(seen)
            printf '{"status": 204, "body": ""}'
            """)
        let exchange = HTTPExchange(method: "POST", url: "http://127.0.0.1:9/t", headers: [.init("Accept", "application/json")],
                                    body: Array("refresh_token=rt-secret".utf8), timeoutMilliseconds: 3_000)
        #expect(HelperTransport(path: helper).send(exchange) == .answered(status: 204, body: []))
        let request = try HTTPExchange(wire: [UInt8](try Data(contentsOf: URL(fileURLWithPath: seen))))
        #expect(request == exchange)
        #expect(try String(contentsOfFile: arguments, encoding: .utf8) == "\(helper) \n")
    }

    @Test("the helper starts with no signal blocked or ignored, even from a Dispatch worker of a process ignoring SIGPIPE")
    func cleanSignals() throws {
        Signals.ignoreBrokenPipe()
        let result = Locked<HelperProcess.Result?>(nil)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            result.set(try? HelperProcess.run("/bin/grep", arguments: ["-E", "^Sig(Blk|Ign)", "/proc/self/status"],
                                              input: [], timeoutMilliseconds: 5000, outputLimit: 4096))
            done.signal()
        }
        done.wait()
        let finished = try #require(result.get())
        #expect(finished.status == .exited(0))
        var masks: [String: UInt64] = [:]
        for line in String(decoding: finished.output, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2 { masks[String(parts[0])] = UInt64(parts[1], radix: 16) }
        }
        #expect(masks["SigBlk:"] == 0)
        // Only the standard signals (1 to 31): glibc reserves 32 and 33 for itself, and
        // posix_spawn can reset neither, whatever the test runner did with them.
        #expect(masks["SigIgn:"].map { $0 & 0x7fff_ffff } == 0)
    }

    @Test("a helper that writes without end is killed at the output limit")
    func endlessOutput() throws {
        let result = try HelperProcess.run("/usr/bin/yes", input: [], timeoutMilliseconds: 5000, outputLimit: 100_000)
        #expect(result.interruption == .outputLimit)
        #expect(result.status == .killed(signal: SIGKILL))
        #expect(result.output.count <= 100_000)
    }

    @Test("input larger than a socket buffer reaches the helper whole, and its echo comes back whole")
    func largeInput() throws {
        let input = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let result = try HelperProcess.run("/bin/cat", input: input, timeoutMilliseconds: 10_000, outputLimit: 4_000_000)
        #expect(result.interruption == nil)
        #expect(result.status == .exited(0))
        #expect(result.output == input)
    }
}

/// A value handed between threads under a lock.
final class Locked<Value>: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func set(_ newValue: Value) { lock.lock(); value = newValue; lock.unlock() }
    func get() -> Value { lock.lock(); defer { lock.unlock() }; return value }
}

struct HelperTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
