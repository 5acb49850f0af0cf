import HTTPCodec
import Testing

/// The parser is a pure function of the byte stream: the same bytes give the same requests
/// and the same error however they are split into reads (scripts/fuzz checks the same
/// property on generated input).
@Suite("HTTP parser: any split of the same bytes gives the same requests and answers")
struct HTTPParserSplitTests {
    static let corpus: [String] = [
        "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n\r\r\n\r\n",
        "POST /v1/token-requests HTTP/1.1\r\nHost: h\r\n\r\n{\"client_name\": \"x\"}",
        "POST /v1/token-requests HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n\r\n{\"client_name\": \"x\"}",
        "PUT /x HTTP/1.1\r\nHost: h\r\n\r\naccount_id=3",
        "POST /v1/token-requests/x/cancel HTTP/1.1\r\nHost: h\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: h\r\n\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
        "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n",
        "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz\rGET /c HTTP/1.1\r\nHost: h\r\n\r\n",
        "\r\n\n\r\nGET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nabcd",
        "GET / HTTP/1.1\nHost: h\n\nGET /two HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        "GET / HTTP/1.1\r\nHost: h\r\n Folded: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET http://example/x?y HTTP/1.1\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
        "\u{16}\u{03}\u{01}\u{02}\u{00}",
        "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + String(repeating: "a", count: 200) + "\r\n\r\n",
    ]

    @Test("every split point, and a byte at a time, give what the whole stream gives", arguments: corpus)
    func everySplit(_ text: String) {
        for limits in [HTTPLimits(), smallHTTPLimits] {
            let bytes = Array(text.utf8)
            let whole = requestTranscript([bytes], limits: limits)
            for point in 0...bytes.count {
                let split = requestTranscript([Array(bytes[..<point]), Array(bytes[point...])], limits: limits)
                #expect(split == whole, "split at \(point) of \(text.debugDescription)")
            }
            #expect(requestTranscript(bytes.map { [$0] }, limits: limits) == whole, "byte at a time: \(text.debugDescription)")
        }
    }

    @Test("a request then CR CR LF CR LF: the request, then 400, in one read or two")
    func strayCarriageReturn() {
        let first = Array("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n".utf8)
        let rest = Array("\r\r\n\r\n".utf8)
        let expected = ["GET /healthz HTTP/1.1 [Host: h] []", "error 400 bad_request"]
        #expect(requestTranscript([first + rest], limits: HTTPLimits()) == expected)
        #expect(requestTranscript([first, rest], limits: HTTPLimits()) == expected)
    }

    @Test("a POST without Content-Length then a body: 411 in one read or two")
    func lengthlessBody() {
        let head = Array("POST /v1/token-requests HTTP/1.1\r\nHost: h\r\n\r\n".utf8)
        let body = Array("{\"client_name\": \"x\"}".utf8)
        let whole = requestTranscript([head + body], limits: HTTPLimits())
        #expect(whole.last == "error 411 length_required")
        #expect(requestTranscript([head, body], limits: HTTPLimits()) == whole)
        let typed = Array("POST /v1/token-requests HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n\r\n".utf8)
        #expect(requestTranscript([typed], limits: HTTPLimits()) == ["error 411 length_required"])
    }
}
