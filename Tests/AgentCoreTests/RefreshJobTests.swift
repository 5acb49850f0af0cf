import AgentPOSIX
import AgentProtocol
import AgentTransport
import Foundation
import OAuth
import Synchronization
import Testing

@testable import AgentCore

/// A token endpoint played in process: each exchange runs `answer`, which may also act as
/// another tool writing the shared file meanwhile.
final class PlayedEndpoint: HTTPTransport, @unchecked Sendable {
    // `calls` is guarded by its mutex; `answer` is immutable.
    let calls = Mutex(0)
    let answer: @Sendable () -> HTTPOutcome

    init(_ answer: @escaping @Sendable () -> HTTPOutcome) { self.answer = answer }

    func send(_ exchange: HTTPExchange) -> HTTPOutcome {
        calls.withLock { $0 += 1 }
        return answer()
    }
}

@Suite("a refresh of an account tied to a shared credentials file")
struct RefreshJobTests {
    static let provider = ProviderConfiguration(name: "test", clientID: "c", authorizationEndpoint: "http://127.0.0.1:9/a",
                                                tokenEndpoint: "http://127.0.0.1:9/t", scopes: ["user:inference"])

    static func file(_ access: String, _ refresh: String) -> String {
        #"{"claudeAiOauth": {"accessToken": "\#(access)", "refreshToken": "\#(refresh)", "expiresAt": 4102444800000, "scopes": ["user:inference"], "keep": 1}}"#
    }

    static let invalidGrant = HTTPOutcome.answered(status: 400, body: Array(#"{"error": "invalid_grant"}"#.utf8))

    func temporaryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/refresh-job-" + UUID().uuidString.prefix(8) + ".json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func job(_ path: String, persist: Bool, _ endpoint: PlayedEndpoint) throws -> RefreshJob {
        RefreshJob(refreshToken: "rt-0", accessToken: "at-0", scopes: ["user:inference"],
                   endpoint: TokenEndpointClient(provider: Self.provider, transport: endpoint),
                   file: TiedFile(path: path, persist: persist, knownStamp: try FileSystem.stamp(path)))
    }

    @Test("a writer that takes no lock rotates while we refresh: after invalid_grant the file is read again and its pair adopted")
    func adoptsAfterInvalidGrant() throws {
        let path = try temporaryFile(Self.file("at-0", "rt-0"))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let endpoint = PlayedEndpoint {
            try? Self.file("at-9", "rt-9").write(toFile: path, atomically: true, encoding: .utf8)
            return Self.invalidGrant
        }
        guard case .success(.adopted(let credentials, _)) = try job(path, persist: true, endpoint).run() else {
            Issue.record("the job did not adopt the file's pair")
            return
        }
        #expect(credentials.accessToken == "at-9")
        #expect(credentials.refreshToken == "rt-9")
        #expect(endpoint.calls.withLock { $0 } == 1)
    }

    @Test("the file changed since it was read: its newer pair is adopted without a request")
    func adoptsBeforeRefreshing() throws {
        let path = try temporaryFile(Self.file("at-0", "rt-0"))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let endpoint = PlayedEndpoint { Self.invalidGrant }
        let job = try job(path, persist: true, endpoint)
        try Self.file("at-5", "rt-5").write(toFile: path, atomically: true, encoding: .utf8)
        guard case .success(.adopted(let credentials, _)) = job.run() else {
            Issue.record("the job did not adopt the file's pair")
            return
        }
        #expect(credentials.refreshToken == "rt-5")
        #expect(endpoint.calls.withLock { $0 } == 0)
    }

    @Test("an unchanged file: the refresh happens and its pair is written back under the lock, other fields kept")
    func refreshesAndWrites() throws {
        let path = try temporaryFile(Self.file("at-0", "rt-0"))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let endpoint = PlayedEndpoint {
            .answered(status: 200, body: Array(#"{"access_token": "at-1", "refresh_token": "rt-1", "token_type": "Bearer", "expires_in": 60}"#.utf8))
        }
        let result = try job(path, persist: true, endpoint).run()
        guard case .success(.granted(let grant, let stamp, nil)) = result else {
            Issue.record("the job did not refresh: \(result)")
            return
        }
        #expect(grant.refreshToken == "rt-1")
        #expect(stamp == (try FileSystem.stamp(path)))
        let written = try CredentialsFile.read(path: path)
        #expect(written.credentials.refreshToken == "rt-1")
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("\"keep\": 1"))
        #expect(FileManager.default.fileExists(atPath: TiedFile(path: path, persist: true, knownStamp: nil).lockPath))
        try? FileManager.default.removeItem(atPath: TiedFile(path: path, persist: true, knownStamp: nil).lockPath)
    }

    @Test("a file holding our own pair, or a pair without a refresh token, is not adopted")
    func notAdopted() throws {
        let path = try temporaryFile(#"{"claudeAiOauth": {"accessToken": "at-7"}}"#)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let job = try job(path, persist: false, PlayedEndpoint { Self.invalidGrant })
        try #"{"claudeAiOauth": {"accessToken": "at-8"}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(job.newerCredentials(in: job.file!) == nil)
        try Self.file("at-0", "rt-0").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(job.newerCredentials(in: job.file!) == nil)
    }

    @Test("the lock is a sibling of the file, so a rename over the file does not drop it")
    func lockPath() {
        #expect(TiedFile(path: "/home/u/.claude/.credentials.json", persist: true, knownStamp: nil).lockPath
                == "/home/u/.claude/..credentials.json.lock")
    }

    @Test("a lock directory (proper-lockfile's, Claude Code's) excludes a second holder, and a stale one is taken over")
    func directoryLock() throws {
        let path = FileManager.default.temporaryDirectory.path + "/dirlock-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try #require(try DirectoryLock.acquire(path, staleMilliseconds: 60_000, timeoutMilliseconds: 0))
        #expect(try DirectoryLock.acquire(path, staleMilliseconds: 60_000, timeoutMilliseconds: 150) == nil)
        // Left by a holder that crashed 2 minutes ago: stale, so taken over.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-120)], ofItemAtPath: path)
        let second = try #require(try DirectoryLock.acquire(path, staleMilliseconds: 60_000, timeoutMilliseconds: 0))
        // A holder's touch keeps it fresh.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-120)], ofItemAtPath: path)
        second.touch()
        #expect(try DirectoryLock.acquire(path, staleMilliseconds: 60_000, timeoutMilliseconds: 0) == nil)
        second.release()
        #expect(!FileManager.default.fileExists(atPath: path))
        _ = first
    }

    @Test("Claude Code's lock is taken only for its own file name")
    func claudeCodeLockOnlyForItsFile() {
        #expect(ClaudeCodeRefreshLock.acquire(for: "/nonexistent/credentials.json") == nil)
    }

    @Test("flock excludes a second holder until the first releases")
    func fileLock() throws {
        let path = FileManager.default.temporaryDirectory.path + "/lock-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try #require(try FileLock.acquire(path, timeoutMilliseconds: 0))
        #expect(try FileLock.acquire(path, timeoutMilliseconds: 50) == nil)
        first.release()
        let second = try #require(try FileLock.acquire(path, timeoutMilliseconds: 0))
        second.release()
    }
}
