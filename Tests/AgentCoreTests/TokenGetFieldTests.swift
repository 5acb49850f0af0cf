import AgentProtocol
import Testing

@testable import AgentCore

/// `token.get`'s fields checked at the door, in process.
@Suite("token.get's fields")
struct TokenGetFieldTests {
    @Test("timeout_ms out of its range, or not an integer, is refused with the wording every integer field uses",
          arguments: [JSONValue.int(0), .int(3_600_001), .int(-1), .string("1000"), .double(1.5)])
    func timeoutOutOfRange(_ timeout: JSONValue) throws {
        let agent = try InProcessAgent()
        let client = try agent.connect()
        try agent.add(client, expiresIn: 3600)
        let answer = try agent.answer(client.send(.tokenGet, ["timeout_ms": timeout]), on: client)
        #expect(answer.errorCode == "bad_request", "\(answer)")
        #expect(answer.errorMessage == "field \"timeout_ms\" must be an integer from 1 to 3600000 milliseconds")
    }

    @Test("timeout_ms at either end of its range is taken", arguments: [Int64(1), 3_600_000])
    func timeoutInRange(_ timeout: Int64) throws {
        let agent = try InProcessAgent()
        let client = try agent.connect()
        try agent.add(client, expiresIn: 3600)
        #expect(try agent.answer(client.send(.tokenGet, ["timeout_ms": .int(timeout)]), on: client).accessToken == "at-0")
    }
}
