@testable import FoundationTransport
import AgentTransport
import Foundation
import FoundationSession
import OAuth
import Testing

@Suite("Exchange time-outs in milliseconds, through every carrier")
struct ExchangeTimeoutTests {
    @Test("milliseconds become Foundation's seconds exactly, and any Int64 converts without trapping", arguments: [
        (1, 0.001), (500, 0.5), (30_000, 30.0), (3_600_000, 3600.0),
        (.max, 9_223_372_036_854_775.807), (.min, -9_223_372_036_854_775.808),
    ] as [(Int64, Double)])
    func timeInterval(milliseconds: Int64, seconds: Double) {
        #expect(TimeInterval(milliseconds: milliseconds) == seconds)
    }

    @Test("an exchange given the largest Int64 as its time-out is answered, not trapped on", arguments: Carrier.allCases)
    func hugeTimeout(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let exchange = HTTPExchange(method: "POST", url: server.tokenURL(key: key),
                                    headers: [.init("Content-Type", "application/x-www-form-urlencoded")],
                                    body: Array("grant_type=refresh_token&refresh_token=rt".utf8), timeoutMilliseconds: .max)
        guard case .answered(let status, _) = carrier.transport.send(exchange) else {
            Issue.record("no answer through \(carrier)")
            return
        }
        #expect(status == 200)
    }

    @Test("a client given no time-out, or a negative one, uses the documented default of 30 s", arguments: [0, -1, .min] as [Int64])
    func defaultTimeout(given: Int64) {
        let provider = TokenEndpointClientTests.provider("http://127.0.0.1:9/o/token/")
        let client = TokenEndpointClient(provider: provider, transport: Carrier.loopback.transport, timeoutMilliseconds: given)
        #expect(client.timeoutMilliseconds == TokenEndpointClient.defaultTimeoutMilliseconds)
        #expect(TokenEndpointClient.defaultTimeoutMilliseconds == 30_000)
    }
}

@Suite("Retry backoff in milliseconds")
struct BackoffTests {
    @Test("any first backoff is kept within 0 … 8 s, so doubling it never traps", arguments: [
        (.min, 0), (-1, 0), (0, 0), (250, 250), (8_000, 8_000), (8_001, 8_000), (.max, 8_000),
    ] as [(Int64, Int64)])
    func bounded(given: Int64, kept: Int64) {
        let provider = TokenEndpointClientTests.provider("http://127.0.0.1:9/o/token/")
        let client = TokenEndpointClient(provider: provider, transport: Carrier.loopback.transport, initialBackoffMilliseconds: given)
        #expect(client.initialBackoffMilliseconds == kept)
    }
}
