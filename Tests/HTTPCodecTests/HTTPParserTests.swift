import HTTPCodec
import Testing

@Suite("HTTP/1.1 request parser")
struct HTTPParserTests {
    /// Feeds `text` whole and returns every request, or the error.
    func parse(_ text: String, limits: HTTPLimits = HTTPLimits()) -> Result<[HTTPRequest], HTTPParseError> {
        parse(Array(text.utf8), limits: limits)
    }

    func parse(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) -> Result<[HTTPRequest], HTTPParseError> {
        var parser = HTTPParser(limits: limits)
        parser.append(bytes)
        var requests: [HTTPRequest] = []
        do throws(HTTPParseError) {
            while let request = try parser.next() { requests.append(request) }
            return .success(requests)
        } catch {
            return .failure(error)
        }
    }

    func status(_ text: String) -> Int? {
        if case .failure(let error) = parse(text) { return error.status }
        return nil
    }

    @Test("a GET with headers: method, target, version, case-insensitive names")
    func simpleGet() throws {
        let requests = try parse("GET /v1/token-requests/abc/status?x=1 HTTP/1.1\r\nHost: 127.0.0.1:7777\r\nX-Thing:  spaced value \t\r\n\r\n").get()
        #expect(requests.count == 1)
        let request = try #require(requests.first)
        #expect(request.method == "GET")
        #expect(request.target == "/v1/token-requests/abc/status?x=1")
        #expect(request.path == "/v1/token-requests/abc/status")
        #expect(request.query == "x=1")
        #expect(request.version == .http11)
        #expect(request.headers["host"] == "127.0.0.1:7777")
        #expect(request.headers["X-THING"] == "spaced value")
        #expect(request.body.isEmpty)
    }

    @Test("a body arriving a byte at a time comes out whole, once")
    func incrementalBody() throws {
        let text = "POST /v1/token-requests HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"
        var parser = HTTPParser()
        var produced: [HTTPRequest] = []
        for byte in text.utf8 {
            parser.append([byte])
            if let request = try parser.next() { produced.append(request) }
        }
        #expect(produced.count == 1)
        #expect(produced.first.map { String(decoding: $0.body, as: UTF8.self) } == "hello world")
        #expect(!parser.hasPartialRequest)
    }

    @Test("pipelined requests come out in order")
    func pipelining() throws {
        let text = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
            + "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
            + "GET /c HTTP/1.1\r\nHost: h\r\n\r\n"
        let requests = try parse(text).get()
        #expect(requests.map(\.path) == ["/a", "/b", "/c"])
        #expect(requests.map { String(decoding: $0.body, as: UTF8.self) } == ["", "xyz", ""])
    }

    @Test("request line and headers over 8 KiB: 431, with or without their end")
    func headTooLarge() {
        let big = String(repeating: "a", count: 8200)
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(big)\r\n\r\n") == 431)
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(big)") == 431)
        #expect(status("GET /\(big) HTTP/1.1\r\n") == 431)
        let fits = String(repeating: "a", count: 8000)
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(fits)\r\n\r\n") == nil)
    }

    @Test("more than 100 header fields: 431")
    func tooManyHeaders() {
        let hundred = (0..<99).map { "X-\($0): 1\r\n" }.joined()
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\n\(hundred)\r\n") == nil)
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\n\(hundred)X-Last: 1\r\n\r\n") == 431)
    }

    @Test("a body over 64 KiB: 413 as soon as the head says so")
    func bodyTooLarge() {
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65537\r\n\r\n") == 413)
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n") == 400)
        var parser = HTTPParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65536\r\n\r\n".utf8) + [UInt8](repeating: 0x61, count: 65536))
        #expect((try? parser.next())?.body.count == 65536)
    }

    @Test("a POST with a body but no Content-Length: 411; without a body it is empty")
    func lengthRequired() throws {
        #expect(status("POST /v1/token-requests HTTP/1.1\r\nHost: h\r\n\r\n{\"client_name\": \"x\"}") == 411)
        #expect(status("PUT /x HTTP/1.1\r\nHost: h\r\n\r\naccount_id=3") == 411)
        let alone = try parse("POST /v1/token-requests/x/cancel HTTP/1.1\r\nHost: h\r\n\r\n").get()
        #expect(alone.count == 1 && alone[0].body.isEmpty)
        let thenGet = try parse("POST /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n").get()
        #expect(thenGet.map(\.path) == ["/a", "/b"])
    }

    @Test("Transfer-Encoding: 501, chunked named in the message")
    func transferEncoding() {
        guard case .failure(let error) = parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") else {
            Issue.record("chunked body accepted")
            return
        }
        #expect(error.status == 501)
        #expect(error.message == "chunked request bodies are not supported")
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n") == 501)
    }

    @Test("Content-Length: repeated equal values pass, differing or malformed ones are 400")
    func contentLength() throws {
        #expect(try parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab").get().count == 1)
        #expect(try parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\n\r\nab").get().count == 1)
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 3\r\n\r\nabc") == 400)
        for bad in ["+2", "-1", "0x2", "2 2", "", "two"] {
            #expect(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(bad)\r\n\r\nab") == 400, "Content-Length: \(bad)")
        }
    }

    @Test("malformed heads are 400", arguments: [
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n folded\r\n\r\n",           // obs-fold
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n",                   // bare CR
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u{0}b\r\n\r\n",                // NUL
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u{7}b\r\n\r\n",                // other control byte
        "GET / HTTP/1.1\r\nHost: h\r\nX-A : 1\r\n\r\n",                     // space before the colon
        "GET / HTTP/1.1\r\nHost: h\r\nno colon here\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n: empty name\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",                                 // not a token
        "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",                                // two spaces
        "GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n",
        "GET /\u{e9} HTTP/1.1\r\nHost: h\r\n\r\n",                          // raw non-ASCII target
        "GET relative HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",                                            // HTTP/1.1 without Host
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",                      // two Hosts
        "GET / HTTX/1.1\r\nHost: h\r\n\r\n",
    ])
    func malformed(_ text: String) {
        #expect(status(text) == 400)
    }

    @Test("an unknown HTTP version is 505; HTTP/1.0 without Host is fine")
    func versions() throws {
        #expect(status("GET / HTTP/2.0\r\nHost: h\r\n\r\n") == 505)
        #expect(status("GET / HTTP/1.2\r\nHost: h\r\n\r\n") == 505)
        let old = try parse("GET / HTTP/1.0\r\n\r\n").get()
        #expect(old.first?.version == .http10)
    }

    @Test("keep-alive: HTTP/1.1 persists unless close, HTTP/1.0 closes unless keep-alive")
    func keepAlive() throws {
        func keep(_ version: String, _ connection: String?) throws -> Bool {
            let field = connection.map { "Connection: \($0)\r\n" } ?? ""
            return try #require(try parse("GET / \(version)\r\nHost: h\r\n\(field)\r\n").get().first).keepAlive
        }
        #expect(try keep("HTTP/1.1", nil))
        #expect(try !keep("HTTP/1.1", "close"))
        #expect(try !keep("HTTP/1.1", "Upgrade, Close"))
        #expect(try !keep("HTTP/1.0", nil))
        #expect(try keep("HTTP/1.0", "keep-alive"))
        #expect(try keep("HTTP/1.0", "Keep-Alive"))
    }

    @Test("bare LF line ends and a stray empty line before the request are accepted")
    func lenientLineEnds() throws {
        let requests = try parse("\r\n\nGET /a HTTP/1.1\nHost: h\n\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n").get()
        #expect(requests.map(\.path) == ["/a", "/b"])
    }

    @Test("line ends after a body are dropped, so the connection reads as idle")
    func trailingLineEnds() throws {
        var parser = HTTPParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok\r\n".utf8))
        #expect(try parser.next()?.body == Array("ok".utf8))
        #expect(!parser.hasPartialRequest)
    }

    @Test("Expect: 100-continue asks for the interim answer once, until the body comes")
    func expectContinue() throws {
        var parser = HTTPParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n".utf8))
        #expect(try parser.next() == nil)
        let first = parser.takeContinueRequest()
        let second = parser.takeContinueRequest()
        #expect(first)
        #expect(!second)
        parser.append(Array("ok".utf8))
        #expect(try parser.next()?.body == Array("ok".utf8))
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\nContent-Length: 2\r\n\r\nok") == 417)
    }

    @Test("an absolute-form target: its path is routed and its authority replaces Host")
    func absoluteForm() throws {
        let request = try #require(try parse("GET http://127.0.0.1:7777/healthz?x=1 HTTP/1.1\r\nHost: evil.example\r\n\r\n").get().first)
        #expect(request.path == "/healthz")
        #expect(request.query == "x=1")
        #expect(request.headers.values("Host") == ["127.0.0.1:7777"])
    }

    @Test("query parameters are percent-decoded, + as a space")
    func query() throws {
        let request = try #require(try parse("GET /oauth/callback?code=a%2Fb+c&state=s%3D HTTP/1.1\r\nHost: h\r\n\r\n").get().first)
        #expect(request.queryValue("code") == "a/b c")
        #expect(request.queryValue("state") == "s=")
        #expect(request.queryValue("missing") == nil)
    }
}

extension HTTPRequest: Equatable {
    public static func == (lhs: HTTPRequest, rhs: HTTPRequest) -> Bool {
        lhs.method == rhs.method && lhs.target == rhs.target && lhs.body == rhs.body
    }
}
