import HTTPCodec
import Testing

@Suite("Statuses with no body (RFC 9112 §6.3 item 1)")
struct HTTPStatusBodyTests {
    @Test("1xx, 204 and 304 have no body", arguments: [100, 101, 103, 199, 204, 304])
    func noBody(_ status: Int) {
        #expect(HTTPStatus.hasNoBody(status))
    }

    @Test("every other status may have one", arguments: [200, 201, 203, 205, 206, 299, 300, 303, 305, 400, 404, 500, 599])
    func body(_ status: Int) {
        #expect(!HTTPStatus.hasNoBody(status))
    }

    @Test("the response parser reads no body after a no-body status, whatever Content-Length says", arguments: [204, 304])
    func parserAgrees(_ status: Int) throws {
        var parser = HTTPResponseParser(requestMethod: "GET")
        parser.append(Array("HTTP/1.1 \(status) X\r\nContent-Length: 4\r\n\r\n".utf8))
        let response = try #require(try parser.next())
        #expect(response.status == status)
        #expect(response.body.isEmpty)
    }
}
