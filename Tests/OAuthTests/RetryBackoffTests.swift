import AgentTransport
import OAuth
import Synchronization
import Testing

/// The pauses between attempts, read from an injected sleep that records them and returns
/// at once: the whole backoff sequence is checked without waiting for it.
@Suite("Retry backoff: doubled from the first pause, capped, never before a request that may have arrived")
struct RetryBackoffTests {
    /// Records each pause the client asks for, in milliseconds.
    final class Pauses: Sendable {
        private let recorded = Mutex<[Int64]>([])
        var milliseconds: [Int64] { recorded.withLock { $0 } }
        var sleep: @Sendable (Int64) -> Void { { pause in self.recorded.withLock { $0.append(pause) } } }
    }

    static func client(_ url: String, revocation: String? = nil, attempts: Int, initialBackoffMilliseconds: Int64,
                       _ pauses: Pauses) -> TokenEndpointClient {
        TokenEndpointClient(provider: TokenEndpointClientTests.provider(url, revocationEndpoint: revocation),
                            transport: Carrier.loopback.transport, timeoutMilliseconds: 5_000, maxAttempts: attempts,
                            initialBackoffMilliseconds: initialBackoffMilliseconds, sleep: pauses.sleep)
    }

    @Test("a refused connection is retried after 250, 500, 1000 … ms, one pause between each two attempts, capped at 8 s")
    func refusedConnection() throws {
        let server = try FakeTokenEndpoint.start()
        let pauses = Pauses()
        let client = Self.client("http://127.0.0.1:\(server.closedPort)/o/token/", attempts: 8,
                                 initialBackoffMilliseconds: TokenEndpointClient.defaultInitialBackoffMilliseconds, pauses)
        let error = try #require(TokenEndpointClientTests.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { 0 }) })
        #expect(error.kind == .transient)
        #expect(client.attemptCount == 8)
        #expect(pauses.milliseconds == [250, 500, 1_000, 2_000, 4_000, 8_000, 8_000])
        #expect(TokenEndpointClient.maximumBackoffMilliseconds == 8_000)
    }

    @Test("a first pause above the cap starts at the cap")
    func firstPauseCapped() throws {
        let server = try FakeTokenEndpoint.start()
        let pauses = Pauses()
        let client = Self.client("http://127.0.0.1:\(server.closedPort)/o/token/", attempts: 3,
                                 initialBackoffMilliseconds: 60_000, pauses)
        _ = TokenEndpointClientTests.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { 0 }) }
        #expect(pauses.milliseconds == [8_000, 8_000])
    }

    @Test("a revocation answered 500 twice is retried after 250 and 500 ms, then succeeds")
    func revocationRetried() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let revocation = "http://127.0.0.1:\(server.port)/o/revoke_token/?key=\(key)&mode=fail&times=2&status=500"
        let pauses = Pauses()
        let client = Self.client(server.tokenURL(key: key), revocation: revocation, attempts: 3,
                                 initialBackoffMilliseconds: TokenEndpointClient.defaultInitialBackoffMilliseconds, pauses)
        try client.revoke(token: "rt-1", hint: "refresh_token")
        #expect(client.attemptCount == 3)
        #expect(pauses.milliseconds == [250, 500])
    }

    @Test("a refresh answered 503 is not sent again, so there is no pause at all")
    func refreshNotRetried() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let pauses = Pauses()
        let client = Self.client(server.tokenURL(key: key, "mode=always&status=503"), attempts: 3,
                                 initialBackoffMilliseconds: TokenEndpointClient.defaultInitialBackoffMilliseconds, pauses)
        let error = try #require(TokenEndpointClientTests.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { 0 }) })
        #expect(error.mayHaveArrived)
        #expect(client.attemptCount == 1)
        #expect(pauses.milliseconds.isEmpty)
    }
}
