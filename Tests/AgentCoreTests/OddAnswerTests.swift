import AgentProtocol
import Testing

/// A 200 from the token endpoint that is odd but usable (the oddities the scripted
/// provider of the end-to-end tests plays: RefreshSurvivalTests.oddAnswer) still rotates
/// the grant, so the agent must keep the new refresh token: the old one may already be
/// spent (RFC 6749 §6, OAuth 2.0 Security BCP §4.14.2). The clock is advanced by hand,
/// so the next refresh comes without waiting out the token's life.
@Suite("An odd but usable token endpoint answer")
struct OddAnswerTests {
    @Test("the rotated refresh token of an odd but usable answer is kept: the next refresh sends it", arguments: [
        // Some providers write expires_in as a float or a string; RFC 6749 §5.1 says integer.
        #""expires_in": 2.5, "token_type": "Bearer""#,
        #""expires_in": "2", "token_type": "Bearer""#,
        // RFC 6749 §5.1 requires token_type; some providers leave it out.
        #""expires_in": 2"#,
    ])
    func keepsRotatedRefreshToken(oddFields: String) throws {
        let endpoint = GatedTokenEndpoint { n in
            #"{"access_token": "at-\#(n)", "refresh_token": "rt-\#(n)", \#(oddFields), "scope": "user:inference"}"#
        }
        let agent = try InProcessAgent(endpoint: endpoint)
        let client = try agent.connect()
        // 5 s left is within the 60 s skew: the first token.get refreshes.
        try agent.add(client, expiresIn: 5)
        #expect(try agent.answer(client.send(.tokenGet), on: client).accessToken == "at-1")
        // at-1 lives 2 s (its skew is half that); once that has passed, the next refresh.
        agent.clock.advance(seconds: 3)
        #expect(try agent.answer(client.send(.tokenGet), on: client).accessToken == "at-2")
        #expect(endpoint.refreshTokensSeen == ["rt-0", "rt-1"])
    }
}
