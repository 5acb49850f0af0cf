import AgentProtocol
import Testing

@testable import AgentCore

/// What the agent answers for a token that lapses while held, under a clock the test
/// advances: never the token, and an error that says why it cannot be had. (The command
/// line's side, exit 4 for `expired`, is in the end-to-end CommandLineContractTests.)
@Suite("expired tokens under a clock the test advances")
struct ExpiredTokenTests {
    @Test("a token without a refresh token is handed out until its expiry less the skew, then never: expired")
    func expiredNeverServed() throws {
        let agent = try InProcessAgent(skewSeconds: 1)
        let client = try agent.connect()
        let expiresAt = agent.clock.unixSeconds() + 3
        try agent.add(client, name: "old", expiresIn: 3, refreshToken: nil)
        agent.clock.advance(seconds: 1)
        #expect(try agent.answer(client.send(.tokenGet), on: client).accessToken == "at-0")
        // Inside the skew: not expired yet, but no longer handed out.
        agent.clock.advance(seconds: 1)
        for request in [JSONObject(), ["account": "old"]] {
            let answer = try agent.answer(client.send(.tokenGet, request), on: client)
            #expect(answer.errorCode == "expired", "\(answer)")
            #expect(answer.errorMessage == "the token of account old expires at \(RFC3339.format(expiresAt)), within the 1 s "
                    + "expiry skew and cannot be refreshed: it came without a refresh token")
        }
        // Past its expiry, however long after (a new client: an idle one is closed).
        for seconds in [1, 3600] as [Int64] {
            agent.clock.advance(seconds: seconds)
            let client = try agent.connect()
            for request in [JSONObject(), ["account": "old"]] {
                let answer = try agent.answer(client.send(.tokenGet, request), on: client)
                #expect(answer.errorCode == "expired", "\(answer)")
                #expect(answer.errorMessage == "the token of account old expired at \(RFC3339.format(expiresAt)) "
                        + "and cannot be refreshed: it came without a refresh token")
                #expect(answer.accessToken == nil)
                #expect(!"\(answer)".contains("at-0"), "the expired token leaked: \(answer)")
            }
        }
        #expect(agent.endpoint.entered == 0)
    }

    @Test("\"cannot be refreshed\" is said only of an account without a refresh token")
    func cannotBeRefreshedOnlyWithoutRefreshToken() throws {
        let endpoint = GatedTokenEndpoint()
        endpoint.unreachable = true
        let agent = try InProcessAgent(endpoint: endpoint, skewSeconds: 1)
        let client = try agent.connect()
        let expiresAt = agent.clock.unixSeconds() + 3
        try agent.add(client, name: "bare", expiresIn: 3, refreshToken: nil)
        try agent.add(client, name: "refreshable", expiresIn: 3, refreshToken: "rt-0")
        agent.clock.advance(seconds: 4)
        let bare = try agent.answer(client.send(.tokenGet, ["account": "bare"]), on: client)
        #expect(bare.errorCode == "expired", "\(bare)")
        #expect(bare.errorMessage == "the token of account bare expired at \(RFC3339.format(expiresAt)) "
                + "and cannot be refreshed: it came without a refresh token")
        // One with a refresh token is refreshed; when that fails, the error says so.
        let refreshable = try agent.answer(client.send(.tokenGet, ["account": "refreshable"]), on: client)
        #expect(refreshable.errorCode == "refresh_failed", "\(refreshable)")
        #expect(refreshable.errorMessage?.hasPrefix("refreshing account refreshable failed: ") == true, "\(refreshable)")
        #expect(refreshable.errorMessage?.contains("cannot be refreshed") == false)
        #expect(endpoint.calls == 1)
    }
}
