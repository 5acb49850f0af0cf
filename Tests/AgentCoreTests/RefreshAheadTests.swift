import AgentProtocol
import Testing

@testable import AgentCore

/// `--refresh-ahead` in process, under a clock the test advances: the background refresh
/// comes when its time does, not before, and a failed one is tried again.
@Suite("refresh-ahead under a clock the test advances")
struct RefreshAheadTests {
    /// The account's token as the agent holds it now.
    private func held(_ agent: InProcessAgent) -> String? {
        agent.agent.store.account(.name("work"))?.token?.accessToken
    }

    @Test("a token is refreshed in the background at about 2/3 of its life; a failed refresh is tried again 30 s later")
    func refreshAheadAndRetry() throws {
        let agent = try InProcessAgent(refreshAhead: true)
        // Each step past the idle time-out talks through a new client.
        try agent.add(agent.connect(), expiresIn: 3000)
        // Due 1700 to 2000 s on: 2/3 of 3000 s, less a jitter of up to a tenth of it.
        agent.clock.advance(seconds: 1699)
        try agent.turn()
        #expect(agent.endpoint.entered == 0)
        agent.clock.advance(seconds: 301)
        try agent.turn(until: { held(agent) == "at-1" })
        let client = try agent.connect()
        #expect(try agent.answer(client.send(.tokenGet), on: client).accessToken == "at-1")
        #expect(agent.endpoint.calls == 1)

        // The new token lives 3600 s: due 2160 to 2400 s on. This refresh fails.
        agent.endpoint.unreachable = true
        agent.clock.advance(seconds: 2400)
        try agent.turn(until: { agent.agent.store.account(.name("work"))?.lastRefreshFailure != nil })
        #expect(agent.endpoint.calls == 2)
        // The held token is still good meanwhile.
        let later = try agent.connect()
        #expect(try agent.answer(later.send(.tokenGet), on: later).accessToken == "at-1")
        agent.endpoint.unreachable = false
        agent.clock.advance(seconds: 29)
        try agent.turn()
        #expect(agent.endpoint.entered == 2)
        agent.clock.advance(seconds: 1)
        try agent.turn(until: { held(agent) == "at-3" })
        #expect(agent.endpoint.calls == 3)
    }
}
