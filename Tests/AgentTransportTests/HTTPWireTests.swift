import AgentProtocol
import AgentTransport
import Testing

@Suite("The wire between the agent and claude-agent-fetch")
struct HTTPWireTests {
    @Test("a request survives the round trip, whatever bytes its body holds")
    func requestRoundTrip() throws {
        let exchange = HTTPExchange(
            method: "POST", url: "https://example.com/o/token/?a=b",
            headers: [.init("Accept", "application/json"), .init("Authorization", "Basic dGVzdDpzZWNyZXQ=")],
            body: (0...255).map { UInt8($0) }, timeoutMilliseconds: 2_500, followsRedirects: false)
        #expect(try HTTPExchange(wire: exchange.wireEncoded()) == exchange)
        let get = HTTPExchange(method: "GET", url: "http://127.0.0.1:7780/open-auth", timeoutMilliseconds: 5_000, followsRedirects: true)
        #expect(try HTTPExchange(wire: get.wireEncoded()) == get)
    }

    @Test("each kind of answer survives the round trip", arguments: [
        HTTPOutcome.answered(status: 200, body: Array(#"{"access_token": "at"}"#.utf8)),
        .answered(status: 307, body: []),
        .answered(status: 500, body: [0xff, 0x00, 0xfe]),
        .failed("timed out after 30 s"),
        .notSent("connection refused"),
        .transportFailed("the URL is not a valid http or https URL"),
    ])
    func answerRoundTrip(outcome: HTTPOutcome) throws {
        #expect(try HTTPOutcome(wire: outcome.wireEncoded()) == outcome)
    }

    @Test("a request the helper cannot use is refused with what is wrong, never a value", arguments: [
        (#"not json"#, "the request is not JSON"),
        (#"[]"#, "the request is not a JSON object"),
        (#"{"url": "http://x/", "headers": {}, "body": "", "timeout_ms": 1000, "follow_redirects": false}"#, "the request has no method"),
        (#"{"method": "GET", "url": "http://x/", "headers": {"A": 1}, "body": "", "timeout_ms": 1000, "follow_redirects": false}"#,
         "a request header is not a string"),
        (#"{"method": "GET", "url": "http://x/", "headers": {}, "body": "c2VjcmV0!", "timeout_ms": 1000, "follow_redirects": false}"#,
         "the request's body is not base64"),
        (#"{"method": "GET", "url": "http://x/", "headers": {}, "body": "", "timeout_ms": 1000}"#,
         "the request has no follow_redirects boolean"),
    ])
    func badRequests(text: String, message: String) {
        #expect(throws: HTTPWireError(message)) { try HTTPExchange(wire: Array(text.utf8)) }
    }

    @Test("an answer that is none of the three kinds is refused", arguments: [
        (#"{}"#, "the answer has neither a status, an error nor a refusal"),
        (#"{"status": 42, "body": ""}"#, "the answer's status is not an HTTP status"),
        (#"{"status": "200", "body": ""}"#, "the answer's status is not an HTTP status"),
    ])
    func badAnswers(text: String, message: String) {
        #expect(throws: HTTPWireError(message)) { try HTTPOutcome(wire: Array(text.utf8)) }
    }

    @Test("a time-out outside 1 ms … 1 hour, or not a whole number of milliseconds, is refused at the door", arguments: [
        "0", "-1", "3600001", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "1e300", "1.5",
        "\"1000\"", "null", "true",
    ])
    func timeoutOutOfRange(timeout: String) {
        let text = #"{"method": "GET", "url": "http://x/", "headers": {}, "body": "", "timeout_ms": "# + timeout + #", "follow_redirects": false}"#
        #expect(throws: HTTPWireError("the request's timeout_ms is not an integer from 1 to 3600000 milliseconds")) {
            try HTTPExchange(wire: Array(text.utf8))
        }
    }

    @Test("a request with only the former seconds field is refused: both sides are built together")
    func formerTimeoutField() {
        let text = #"{"method": "GET", "url": "http://x/", "headers": {}, "body": "", "timeout": 10, "follow_redirects": false}"#
        #expect(throws: HTTPWireError("the request's timeout_ms is not an integer from 1 to 3600000 milliseconds")) {
            try HTTPExchange(wire: Array(text.utf8))
        }
    }

    @Test("the range's ends are accepted", arguments: [Int64(1), 3_600_000])
    func timeoutAtTheEnds(milliseconds: Int64) throws {
        let exchange = HTTPExchange(method: "GET", url: "http://x/", timeoutMilliseconds: milliseconds)
        #expect(try HTTPExchange(wire: exchange.wireEncoded()).timeoutMilliseconds == milliseconds)
    }

    /// Time-outs given, and the time-out sent for each.
    static let givenAndSent: [(Int64, Int64)] = [
        (.min, 1), (-1, 1), (0, 1), (1, 1), (30_000, 30_000), (3_600_000, 3_600_000), (3_600_001, 3_600_000), (.max, 3_600_000),
    ]

    @Test("any time-out an exchange is given is sent within the range, never trapping", arguments: givenAndSent)
    func boundedTimeout(given: Int64, sent: Int64) throws {
        let exchange = HTTPExchange(method: "GET", url: "http://x/", timeoutMilliseconds: given)
        #expect(exchange.boundedTimeoutMilliseconds == sent)
        #expect(try HTTPExchange(wire: exchange.wireEncoded()).timeoutMilliseconds == sent)
    }

    @Test("time-outs are written as people would, exact to the millisecond", arguments: [
        (10_000, "timed out after 10 s"), (500, "timed out after 0.5 s"), (2_500, "timed out after 2.5 s"),
        (1, "timed out after 0.001 s"), (1_010, "timed out after 1.01 s"), (0, "timed out after 0 s"),
        (3_600_000, "timed out after 3600 s"), (-1_500, "timed out after -1.5 s"),
        (.max, "timed out after 9223372036854775.807 s"), (.min, "timed out after -9223372036854775.808 s"),
    ] as [(Int64, String)])
    func timedOut(milliseconds: Int64, text: String) {
        #expect(HTTPOutcome.timedOut(afterMilliseconds: milliseconds) == text)
    }
}
