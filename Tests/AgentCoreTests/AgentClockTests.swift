import AgentProtocol
import Testing

@testable import AgentCore

/// The agent's time-driven rules, checked in process under a clock the test advances: each
/// test would fail if the rule read the wall clock or fired a moment early or late.
@Suite("the agent under a clock the test advances")
struct AgentClockTests {
    @Test("many token.get waiters on an expired token cause exactly one exchange with the token endpoint")
    func refreshCoalescing() throws {
        let agent = try InProcessAgent(endpoint: GatedTokenEndpoint(held: true))
        let admin = try agent.connect()
        try agent.add(admin, expiresIn: -10)
        let clients = try (0..<20).map { _ in try agent.connect() }
        let ids = try clients.map { try $0.send(.tokenGet, ["scopes": ["user:inference"]]) }
        try agent.turn(until: { agent.endpoint.entered >= 1 })
        try agent.turn(10)
        for (client, id) in zip(clients, ids) { #expect(try !agent.isAnswered(id, on: client)) }
        agent.endpoint.release()
        for (client, id) in zip(clients, ids) {
            #expect(try agent.answer(id, on: client).accessToken == "at-1")
        }
        #expect(agent.endpoint.entered == 1)
        #expect(agent.endpoint.calls == 1)
    }

    @Test("an account added with a lifetime is forgotten when the clock passes it, not a second before")
    func lifetimeExpiry() throws {
        let agent = try InProcessAgent()
        let client = try agent.connect()
        try agent.add(client, expiresIn: 86_400, lifetime: 60)
        agent.clock.advance(seconds: 59)
        #expect(try agent.answer(client.send(.tokenGet), on: client).accessToken == "at-0")
        agent.clock.advance(seconds: 1)
        try agent.turn()
        let answer = try agent.answer(client.send(.tokenGet), on: client)
        #expect(answer.errorCode == "no_token", "\(answer)")
        let list = try agent.answer(client.send(.accountList), on: client)
        #expect(list["result"]?["accounts"]?.arrayValue?.isEmpty == true)
    }

    @Test("the agent's -t lifetime applies to an account added without one")
    func defaultLifetime() throws {
        let agent = try InProcessAgent(defaultLifetime: 30)
        let client = try agent.connect()
        try agent.add(client, expiresIn: 86_400)
        agent.clock.advance(seconds: 29)
        #expect(try agent.answer(client.send(.tokenGet), on: client).accessToken == "at-0")
        agent.clock.advance(seconds: 1)
        #expect(try agent.answer(client.send(.tokenGet), on: client).errorCode == "no_token")
    }

    @Test("a wrong passphrase is answered only after 100 ms per failure, and other clients are served meanwhile")
    func failedUnlockDelay() throws {
        let agent = try InProcessAgent()
        let client = try agent.connect()
        let other = try agent.connect()
        #expect(try agent.answer(client.send(.agentLock, ["passphrase": "right"]), on: client)["ok"]?.boolValue == true)
        for failures in Int64(1)...3 {
            let id = try client.send(.agentUnlock, ["passphrase": "wrong"])
            #expect(try !agent.isAnswered(id, on: client))
            // Another client is served while the answer is held back.
            #expect(try agent.answer(other.send(.status), on: other)["ok"]?.boolValue == true)
            agent.clock.advance(milliseconds: 100 * failures - 1)
            #expect(try !agent.isAnswered(id, on: client))
            agent.clock.advance(milliseconds: 1)
            #expect(try agent.answer(id, on: client).errorCode == "denied")
        }
        #expect(try agent.answer(client.send(.agentUnlock, ["passphrase": "right"]), on: client)["ok"]?.boolValue == true)
    }

    @Test("a token.get waiting for a refresh is answered timeout at timeout_ms less a tenth, and the refresh's outcome is kept")
    func refreshWaiterDeadline() throws {
        let agent = try InProcessAgent(endpoint: GatedTokenEndpoint(held: true))
        let client = try agent.connect()
        try agent.add(client, expiresIn: -10)
        let id = try client.send(.tokenGet, ["timeout_ms": 2000])
        try agent.turn(until: { agent.endpoint.entered == 1 })
        agent.clock.advance(milliseconds: 1799)
        #expect(try !agent.isAnswered(id, on: client))
        agent.clock.advance(milliseconds: 1)
        #expect(try agent.answer(id, on: client).errorCode == "timeout")
        agent.endpoint.release()
        try agent.turn(until: { agent.endpoint.calls == 1 })
        #expect(try agent.answer(client.send(.tokenGet), on: client).accessToken == "at-1")
        #expect(agent.endpoint.entered == 1)
    }

    @Test("forced refreshes within 5 s of the last one answer its outcome; one after that refreshes again")
    func forcedRefreshRateLimit() throws {
        let agent = try InProcessAgent()
        let client = try agent.connect()
        try agent.add(client, expiresIn: 3600)
        #expect(try agent.answer(client.send(.tokenGet, ["refresh": true]), on: client).accessToken == "at-1")
        agent.clock.advance(milliseconds: 4999)
        #expect(try agent.answer(client.send(.tokenGet, ["refresh": true]), on: client).accessToken == "at-1")
        #expect(agent.endpoint.calls == 1)
        agent.clock.advance(milliseconds: 1)
        #expect(try agent.answer(client.send(.tokenGet, ["refresh": true]), on: client).accessToken == "at-2")
        #expect(agent.endpoint.calls == 2)
    }

    @Test("forced refreshes from many clients while one is in flight join it: one exchange")
    func forcedRefreshJoinsInFlight() throws {
        let agent = try InProcessAgent(endpoint: GatedTokenEndpoint(held: true))
        let admin = try agent.connect()
        try agent.add(admin, expiresIn: 3600)
        let clients = try (0..<10).map { _ in try agent.connect() }
        let ids = try clients.map { try $0.send(.tokenGet, ["refresh": true]) }
        try agent.turn(until: { agent.endpoint.entered >= 1 })
        try agent.turn(10)
        agent.endpoint.release()
        for (client, id) in zip(clients, ids) {
            #expect(try agent.answer(id, on: client).accessToken == "at-1")
        }
        #expect(agent.endpoint.entered == 1)
    }

    @Test("an access token is handed out until its expiry less the skew, then refreshed")
    func expiryWithSkew() throws {
        let agent = try InProcessAgent()
        let client = try agent.connect()
        try agent.add(client, expiresIn: 120)
        agent.clock.advance(seconds: 59)
        #expect(try agent.answer(client.send(.tokenGet), on: client).accessToken == "at-0")
        agent.clock.advance(seconds: 1)
        #expect(try agent.answer(client.send(.tokenGet), on: client).accessToken == "at-1")
        #expect(agent.endpoint.calls == 1)
    }

    @Test("the creator's request.wait ends timeout when its time runs out, and the request is cancelled")
    func requestWaitTimeout() throws {
        let agent = try InProcessAgent()
        let client = try agent.connect()
        let created = try agent.answer(client.send(.requestCreate, ["client_name": "test"]), on: client)
        let requestID = try #require(created["result"]?["id"]?.stringValue ?? created["result"]?["request_id"]?.stringValue, "\(created)")
        let wait = try client.send(.requestWait, ["request_id": .string(requestID), "timeout": 2])
        #expect(try !agent.isAnswered(wait, on: client))
        agent.clock.advance(milliseconds: 1999)
        #expect(try !agent.isAnswered(wait, on: client))
        agent.clock.advance(milliseconds: 1)
        #expect(try agent.answer(wait, on: client).errorCode == "timeout")
        let after = try agent.answer(client.send(.requestGet, ["request_id": .string(requestID)]), on: client)
        #expect(after["result"]?["status"]?.stringValue == "cancelled", "\(after)")
    }
}
