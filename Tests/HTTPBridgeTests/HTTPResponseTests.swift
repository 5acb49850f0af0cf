import AgentProtocol
import Foundation
import HTTPBridge
import HTTPCodec
import Testing

@Suite("HTTP responses")
struct HTTPResponseTests {
    let date: Int64 = 784_111_777  // Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example

    @Test("a JSON error serializes head and body in one piece, with the policy fields")
    func jsonError() {
        let bytes = HTTPResponse.error(404, .requestNotFound, "no such request")
            .serialized(version: .http11, keepAlive: true, date: date)
        #expect(String(decoding: bytes, as: UTF8.self) == """
            HTTP/1.1 404 Not Found\r
            Content-Type: application/json\r
            Content-Length: 57\r
            Cache-Control: no-store\r
            X-Content-Type-Options: nosniff\r
            Date: Sun, 06 Nov 1994 08:49:37 GMT\r
            \r
            {"error":"request_not_found","message":"no such request"}
            """)
    }

    @Test("the Date field in IMF-fixdate form", arguments: [
        (Int64(0), "Thu, 01 Jan 1970 00:00:00 GMT"), (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_795_420_799, "Mon, 23 Nov 2026 07:59:59 GMT"), (4_102_444_800, "Fri, 01 Jan 2100 00:00:00 GMT"),
    ])
    func date(_ seconds: Int64, _ expected: String) {
        let text = String(decoding: HTTPResponse(status: 204).serialized(version: .http11, keepAlive: true, date: seconds), as: UTF8.self)
        #expect(text.contains("\r\nDate: \(expected)\r\n"))
    }

    @Test("closing and HTTP/1.0 keep-alive are announced")
    func connectionField() {
        let closing = String(decoding: HTTPResponse(status: 204).serialized(version: .http11, keepAlive: false, date: date), as: UTF8.self)
        #expect(closing.contains("\r\nConnection: close\r\n"))
        let old = String(decoding: HTTPResponse(status: 200).serialized(version: .http10, keepAlive: true, date: date), as: UTF8.self)
        #expect(old.contains("\r\nConnection: keep-alive\r\n"))
        let plain = String(decoding: HTTPResponse(status: 200).serialized(version: .http11, keepAlive: true, date: date), as: UTF8.self)
        #expect(!plain.contains("Connection:"))
    }

    @Test("a field that would split the head, or whose name is not a token, is left out")
    func unwritableFieldLeftOut() {
        var response = HTTPResponse(status: 200, headers: ["X-Kept": "1"])
        response.headers.append("X-Split", "a\r\nSet-Cookie: evil=1")
        response.headers.append("X-Nul", "a\u{0}b")
        response.headers.append("Bad Name", "v")
        let text = String(decoding: response.serialized(version: .http11, keepAlive: true, date: date), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\nX-Kept: 1\r\nContent-Length: 0\r\n"))
        #expect(!text.contains("X-Split") && !text.contains("evil") && !text.contains("X-Nul") && !text.contains("Bad Name"))
    }

    @Test("HEAD gets the same Content-Length and no body")
    func head() {
        let response = HTTPResponse.json(200, ["ok": true])
        let full = response.serialized(version: .http11, keepAlive: true, date: date)
        let head = response.serialized(version: .http11, keepAlive: true, omitBody: true, date: date)
        #expect(full.count == head.count + 11)
        #expect(String(decoding: head, as: UTF8.self).contains("Content-Length: 11\r\n"))
        #expect(String(decoding: head, as: UTF8.self).hasSuffix("\r\n\r\n"))
    }

    @Test("framing fields a handler sets are ignored; Cache-Control may be overridden")
    func framingOwnedByServer() {
        var response = HTTPResponse(status: 200, headers: ["Content-Length": "999", "Connection": "upgrade",
                                                           "Cache-Control": "private"], body: Array("hi".utf8))
        response.headers.append("Transfer-Encoding", "chunked")
        let text = String(decoding: response.serialized(version: .http11, keepAlive: true, date: date), as: UTF8.self)
        #expect(!text.contains("999") && !text.contains("upgrade") && !text.contains("chunked"))
        #expect(text.contains("Content-Length: 2\r\n"))
        #expect(text.contains("Cache-Control: private\r\n") && !text.contains("no-store"))
    }

    @Test("a redirect is 303 with Location and an empty body")
    func redirect() {
        let text = String(decoding: HTTPResponse.redirect(to: "/").serialized(version: .http11, keepAlive: true, date: date), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 303 See Other\r\nLocation: /\r\nContent-Length: 0\r\n"))
    }

    @Test("parse errors close the connection")
    func parseErrorCloses() {
        let response = HTTPResponse.parseError(HTTPParseError(431, .headerFieldsTooLarge, "too big"))
        #expect(response.status == 431)
        #expect(response.closesConnection)
    }
}

@Suite("The bridge's error codes")
struct HTTPErrorCodeDocumentationTests {
    @Test("Bridge.md names every error code the bridge can answer")
    func everyCodeDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Bridge.md"), encoding: .utf8)
        for code in HTTPErrorCode.allCases {
            #expect(text.contains("`\(code.rawValue)`"), "Bridge.md does not name \(code.rawValue)")
        }
    }
}
