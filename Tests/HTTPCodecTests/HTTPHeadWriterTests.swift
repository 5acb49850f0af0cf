import HTTPCodec
import Testing

@Suite("HTTP head writer: exact bytes, and nothing that could split a head")
struct HTTPHeadWriterTests {
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("a response head: status line, fields in order, empty line")
    func responseBytes() throws {
        let head = try HTTPHeadWriter.response(status: 404, fields: ["Content-Type": "text/html; charset=utf-8", "Content-Length": "0"])
        #expect(Self.text(head) == "HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 0\r\n\r\n")
        #expect(Self.text(try HTTPHeadWriter.response(status: 100, fields: [:])) == "HTTP/1.1 100 Continue\r\n\r\n")
        #expect(Self.text(try HTTPHeadWriter.response(status: 299, fields: [:])) == "HTTP/1.1 299 Status 299\r\n\r\n")
    }

    @Test("a request head: request line, fields in order, empty line")
    func requestBytes() throws {
        var fields: HTTPHeaders = ["Host": "127.0.0.1:8080", "Connection": "close"]
        fields.append("X-Tab", "a\tb")
        fields.append("X-Empty", "")
        let head = try HTTPHeadWriter.request(method: "POST", target: "/o/token/?a=1", fields: fields)
        #expect(Self.text(head) == "POST /o/token/?a=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\nX-Tab: a\tb\r\nX-Empty: \r\n\r\n")
    }

    /// Each would end a line early (response splitting, header injection) or be refused by
    /// the parsers here (RFC 9110 §5.5, §5.1).
    @Test("a field value with CR, LF, NUL or another control byte is refused", arguments: [
        "a\r\nX-Injected: 1", "a\rb", "a\nb", "a\u{0}b", "a\u{1}b", "a\u{7F}b", "\r\n\r\nHTTP/1.1 200 OK",
    ])
    func valueRefused(_ value: String) {
        let fields: HTTPHeaders = ["Authorization": value]
        #expect(throws: HTTPHeadError.self) { try HTTPHeadWriter.response(status: 200, fields: fields) }
        #expect(throws: HTTPHeadError.self) { try HTTPHeadWriter.request(method: "GET", target: "/", fields: fields) }
        #expect(!HTTPHeadWriter.canWrite(name: "Authorization", value: value))
    }

    @Test("the refusal names the field, never its value")
    func errorHidesValue() {
        let fields: HTTPHeaders = ["Authorization": "Bearer secret\r\n"]
        #expect(throws: HTTPHeadError("the value of the header field Authorization holds a CR, LF or other control byte")) {
            try HTTPHeadWriter.request(method: "GET", target: "/", fields: fields)
        }
    }

    @Test("a field name that is not a token is refused", arguments: ["", "X Name", "X:Name", "X\r\nY", "Ä"])
    func nameRefused(_ name: String) {
        var fields = HTTPHeaders()
        fields.append(name, "v")
        #expect(throws: HTTPHeadError("a header field name is empty or not a token")) {
            try HTTPHeadWriter.response(status: 200, fields: fields)
        }
    }

    @Test("a status that is not three digits is refused", arguments: [0, 99, 1000, -200])
    func statusRefused(_ status: Int) {
        #expect(throws: HTTPHeadError.self) { try HTTPHeadWriter.response(status: status, fields: [:]) }
    }

    @Test("a method that is not a token, or a target with a space or control byte, is refused", arguments: [
        ("", "/"), ("GET /x", "/"), ("G\r\nET", "/"), ("GET", ""), ("GET", "/a b"), ("GET", "/a\r\nHost: x"), ("GET", "/\u{7F}"),
    ])
    func requestLineRefused(_ method: String, _ target: String) {
        #expect(throws: HTTPHeadError.self) { try HTTPHeadWriter.request(method: method, target: target, fields: [:]) }
    }

    @Test("what the writer writes, the response parser reads back")
    func roundTrip() throws {
        var fields: HTTPHeaders = ["Content-Length": "2"]
        fields.append("X-Obs", "caf\u{E9}")
        var parser = HTTPResponseParser(requestMethod: "GET")
        parser.append(try HTTPHeadWriter.response(status: 201, fields: fields) + Array("ok".utf8))
        let response = try #require(try parser.next())
        #expect(response.status == 201)
        #expect(response.headers["X-Obs"] == "caf\u{E9}")
        #expect(response.body == Array("ok".utf8))
    }
}
