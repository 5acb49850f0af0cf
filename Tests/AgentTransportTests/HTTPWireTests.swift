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
            body: (0...255).map { UInt8($0) }, timeoutSeconds: 2.5, followsRedirects: false)
        #expect(try HTTPExchange(wire: exchange.wireEncoded()) == exchange)
        let get = HTTPExchange(method: "GET", url: "http://127.0.0.1:7780/open-auth", timeoutSeconds: 5, followsRedirects: true)
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
        (#"{"url": "http://x/", "headers": {}, "body": "", "timeout": 1, "follow_redirects": false}"#, "the request has no method"),
        (#"{"method": "GET", "url": "http://x/", "headers": {"A": 1}, "body": "", "timeout": 1, "follow_redirects": false}"#,
         "a request header is not a string"),
        (#"{"method": "GET", "url": "http://x/", "headers": {}, "body": "c2VjcmV0!", "timeout": 1, "follow_redirects": false}"#,
         "the request's body is not base64"),
        (#"{"method": "GET", "url": "http://x/", "headers": {}, "body": "", "timeout": 0, "follow_redirects": false}"#,
         "the request's timeout is not a number of seconds between 0 and 3600"),
        (#"{"method": "GET", "url": "http://x/", "headers": {}, "body": "", "timeout": 1}"#,
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

    @Test("time-outs are written as people would", arguments: [(10.0, "timed out after 10 s"), (0.5, "timed out after 0.5 s")])
    func timedOut(seconds: Double, text: String) {
        #expect(HTTPOutcome.timedOut(after: seconds) == text)
    }
}
