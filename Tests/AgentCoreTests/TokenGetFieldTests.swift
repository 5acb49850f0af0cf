import AgentProtocol
import Testing

@testable import AgentCore

/// `token.get`'s fields checked at the door, in process.
@Suite("token.get's fields")
struct TokenGetFieldTests {
    @Test("timeout_ms is range-checked at the door with the wording every integer field uses")
    func timeoutRange() throws {
        let agent = try InProcessAgent()
        let client = try agent.connect()
        try agent.add(client, expiresIn: 3600)
        for bad in [JSONValue.int(0), .int(3_600_001), .int(-1), .string("1000"), .double(1.5)] {
            let answer = try agent.answer(client.send(.tokenGet, ["timeout_ms": bad]), on: client)
            #expect(answer.errorCode == "bad_request", "\(bad): \(answer)")
            #expect(answer.errorMessage == "field \"timeout_ms\" must be an integer from 1 to 3600000 milliseconds", "\(bad)")
        }
        for good in [1, 3_600_000] as [Int64] {
            #expect(try agent.answer(client.send(.tokenGet, ["timeout_ms": .int(good)]), on: client).accessToken == "at-0")
        }
    }
}
