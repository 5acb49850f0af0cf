@testable import HTTPCodec
import Testing

@Suite("HTTP response parser: any split of the same bytes gives the same response")
struct HTTPResponseSplitTests {
    static let corpus: [String] = [
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nab\r\n1\r\nc\r\n0\r\nTrailer: t\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000000000000000002\r\nab\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffffff\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        "HTTP/1.0 503 Busy\r\n\r\nlater",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\n",
        "HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/2 200\r\n\r\n",
        "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
        "\r\nHTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 1\n\nz",
        "SSH-2.0-OpenSSH_9.6\r\n",
        "HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "a", count: 200) + "\r\n\r\n" + String(repeating: "b", count: 20),
    ]

    @Test("every split point, and a byte at a time, give what the whole stream gives", arguments: corpus)
    func everySplit(_ text: String) {
        for limits in [HTTPLimits(), smallHTTPLimits] {
            for method in ["GET", "HEAD"] {
                let bytes = Array(text.utf8)
                let whole = responseTranscript([bytes], method: method, limits: limits)
                for point in 0...bytes.count {
                    let split = responseTranscript([Array(bytes[..<point]), Array(bytes[point...])], method: method, limits: limits)
                    #expect(split == whole, "split at \(point) of \(text.debugDescription)")
                }
                #expect(responseTranscript(bytes.map { [$0] }, method: method, limits: limits) == whole,
                        "byte at a time: \(text.debugDescription)")
            }
        }
    }

    @Test("a body counted and dropped (keepsBody false) has the size and errors of the body kept, at any split", arguments: corpus)
    func countedBody(_ text: String) {
        for limits in [HTTPLimits(), smallHTTPLimits] {
            for method in ["GET", "HEAD"] {
                let bytes = Array(text.utf8)
                let kept = sizeTranscript([bytes], method: method, limits: limits, keepsBody: true)
                #expect(sizeTranscript([bytes], method: method, limits: limits, keepsBody: false) == kept, "\(text.debugDescription)")
                for point in 0...bytes.count {
                    let split = sizeTranscript([Array(bytes[..<point]), Array(bytes[point...])], method: method, limits: limits, keepsBody: false)
                    #expect(split == kept, "split at \(point) of \(text.debugDescription)")
                }
                #expect(sizeTranscript(bytes.map { [$0] }, method: method, limits: limits, keepsBody: false) == kept,
                        "byte at a time: \(text.debugDescription)")
            }
        }
    }

    /// The response's status and body size, or its error; the size is `bodyByteCount`,
    /// checked against the body when it is kept, and the body checked empty when not.
    func sizeTranscript(_ chunks: [[UInt8]], method: String, limits: HTTPLimits, keepsBody: Bool) -> String {
        responseTranscript(chunks, method: method, limits: limits, keepsBody: keepsBody) { response, bodyByteCount in
            #expect(keepsBody ? response.body.count == bodyByteCount : response.body.isEmpty)
            return "\(response.version) \(response.status) \(bodyByteCount) bytes"
        }
    }
}

@Suite("HTTP response parser: RFC 9112 §6.3 and §7.1")
struct HTTPResponseParserTests {
    func parse(_ text: String, method: String = "GET", limits: HTTPLimits = HTTPLimits()) -> String {
        responseTranscript([Array(text.utf8)], method: method, limits: limits)
    }

    @Test("bodies by length, by chunks (extensions and trailers dropped), and to the close")
    func framing() {
        #expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA") == "HTTP/1.1 200 [Content-Length: 2] [111, 107]")
        #expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nab\r\n1 ;z\r\nc\r\n0\r\nT: t\r\n\r\n")
                == "HTTP/1.1 200 [Transfer-Encoding: chunked] [97, 98, 99]")
        #expect(parse("HTTP/1.0 503 Busy\r\n\r\nlater") == "HTTP/1.0 503 [] [108, 97, 116, 101, 114]")
        #expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc").hasSuffix("[97, 98, 99]"))
        #expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", method: "HEAD") == "HTTP/1.1 200 [Content-Length: 5] []")
        #expect(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n") == "HTTP/1.1 304 [Content-Length: 5] []")
        #expect(parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx") == "HTTP/1.1 201 [Content-Length: 1] [120]")
    }

    @Test("conflicting lengths, a length beside chunked, other codings: refused (RFC 9112 §6.3)")
    func smuggling() {
        #expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc") == "error malformed Content-Length values differ")
        #expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nabc") == "error malformed Content-Length values differ")
        #expect(parse("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc") == "error malformed Content-Length is not a number")
        #expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
                == "error malformed both Transfer-Encoding and Content-Length")
        #expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n") == "error malformed a transfer coding other than chunked")
        #expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n0\r\n\r\n")
                == "error malformed a chunk's data is not followed by CRLF")
        #expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n") == "error malformed a chunk line ends in a bare LF")
        #expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nab\r\n0\r\n\r\n")
                == "error malformed a chunk size is not a hexadecimal number")
    }

    @Test("hostile sizes are refused against the limit, never overflow")
    func sizes() {
        #expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nab").hasPrefix("error tooLarge"))
        #expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "f", count: 40) + "\r\n").hasPrefix("error tooLarge"))
        #expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n") == "error malformed Content-Length is not a number")
        #expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 65537\r\n\r\n").hasPrefix("error tooLarge"))
        // Leading zeros are digits like any other: the size stays small.
        #expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "0", count: 60) + "1\r\nz\r\n0\r\n\r\n").hasSuffix("[122]"))
    }

    @Test("the connection's end inside a head or a body is a truncation")
    func truncation() {
        #expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort") == "error truncated the connection closed inside the response body")
        #expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab") == "error truncated the connection closed inside the response body")
        #expect(parse("HTTP/1.1 200 OK\r\n") == "error truncated the connection closed inside the response head")
        #expect(parse("") == "error truncated the connection closed inside the response head")
    }

    @Test("heads by the request parser's rules: no folding, no bare CR, a real status line")
    func heads() {
        #expect(parse("HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n") == "error malformed obsolete line folding is not accepted")
        #expect(parse("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n") == "error malformed a bare CR in the message head")
        #expect(parse("HTTP/2 200\r\n\r\n").hasPrefix("error malformed the status line"))
        #expect(parse("HTTP/1.1 099 Low\r\n\r\n") == "error malformed the status code is not between 100 and 599")
        #expect(parse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n") == "HTTP/1.1 200 [Content-Length: 0] []")
        #expect(parse("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 9000) + "\r\n\r\n").hasPrefix("error tooLarge"))
    }

    @Test("the bytes after a response are handed back whole, however it was framed", arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "GET"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nT: t\r\n\r\n", "GET"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", "HEAD"),
        ("HTTP/1.1 204 No Content\r\n\r\n", "GET"),
    ])
    func bytesAfterResponse(_ first: String, _ method: String) throws {
        let next = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz"
        var parser = HTTPResponseParser(requestMethod: method)
        #expect(parser.bytesAfterResponse.isEmpty)
        parser.append(Array((first + next).utf8))
        #expect(try parser.next() != nil)
        #expect(Array(parser.bytesAfterResponse) == Array(next.utf8))
    }

    @Test("the body has begun once a byte after the final head arrives, not with the head alone")
    func bodyHasBegun() throws {
        var parser = HTTPResponseParser(requestMethod: "GET")
        parser.append(Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
        #expect(try parser.next() == nil)
        #expect(!parser.bodyHasBegun)
        parser.append(Array("2\r".utf8))
        #expect(try parser.next() == nil)
        #expect(parser.bodyHasBegun)
        parser.append(Array("\nab\r\n0\r\n\r\n".utf8))
        #expect(try parser.next()?.body == Array("ab".utf8))
    }

    @Test("wipe hands over the chunked body decoded so far, and the parser holds nothing after")
    func wipe() throws {
        var parser = HTTPResponseParser(requestMethod: "GET")
        parser.append(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1\r".utf8))
        #expect(try parser.next() == nil)
        var seen: [[UInt8]] = []
        parser.wipe { bytes in
            seen.append(bytes)
            for index in bytes.indices { bytes[index] = 0 }
        }
        #expect(seen.contains(Array("abc".utf8)))
        #expect(parser.bodyHasBegun)
        var again: [[UInt8]] = []
        parser.wipe { again.append($0) }
        #expect(again == [[]])
    }
}
