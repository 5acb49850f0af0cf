/// A response as an HTTP client receives it: the final one, after any interim `1xx`.
public struct HTTPReceivedResponse: Sendable, Equatable {
    public var version: HTTPVersion
    /// 100...599 (RFC 9110 §15).
    public var status: Int
    public var headers: HTTPHeaders
    /// The body with its transfer coding removed.
    public var body: [UInt8]

    public static func == (a: Self, b: Self) -> Bool {
        a.version == b.version && a.status == b.status && a.body == b.body
            && a.headers.map { "\($0.name): \($0.value)" } == b.headers.map { "\($0.name): \($0.value)" }
    }
}

/// A response the parser cannot read. The message names what is wrong, never a value (a
/// body may hold tokens).
public struct HTTPResponseError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Bytes that are not an HTTP/1.1 response, or one whose length cannot be told.
        case malformed
        /// The connection ended inside the head or the body.
        case truncated
        /// A head or body over the parser's limits.
        case tooLarge
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// An incremental HTTP/1.1 response parser (RFC 9112) for a client that sends one request
/// per connection: bytes go in as they arrive, the final response comes out once whole.
///
/// The head is read by the same rules as the server's request heads (`HTTPParser`); the
/// body is delimited as RFC 9112 §6.3 says, stricter where it allows: no body after HEAD
/// or for 1xx, 204 and 304; `Transfer-Encoding` must be exactly `chunked` and must not
/// come with `Content-Length` (§6.3 item 3: "ought to be handled as an error"); one
/// `Content-Length` value (item 5); otherwise the body runs to the connection's end
/// (item 8). Interim `1xx` responses are skipped (RFC 9110 §15.2).
///
/// Like `HTTPParser`, every decision looks only at bytes already received, so the response
/// or error that comes out is the same however the bytes are split. After an error, or
/// once the response is out, the parser is spent.
public struct HTTPResponseParser {
    public let limits: HTTPLimits
    /// The request's method: the answer to HEAD has no body (RFC 9110 §9.3.2).
    public let requestMethod: String
    /// False for a client that needs only a body's size, not its bytes (a benchmark
    /// streaming hundreds of MiB): the body is counted in `bodyByteCount` as it arrives and
    /// dropped, and the response comes out with an empty `body`. `limits.maxBodyBytes`
    /// bounds the count all the same.
    public let keepsBody: Bool
    /// Body bytes received so far, without their transfer coding.
    public private(set) var bodyByteCount = 0
    private var buffer: [UInt8] = []
    private var start = 0
    private var scan = 0
    private var lineStart = 0
    private enum Framing {
        case length(Int)
        case chunked
        case close
    }

    private var head: (HTTPVersion, Int, HTTPHeaders, Framing)?
    /// A chunked body's decoder, kept apart from `head` and taken out while it works so
    /// that it is never shared: a shared copy made each read copy the whole body so far
    /// (quadratic in the body's size) and made `wipe` clear a copy.
    private var decoder: ChunkedDecoder?
    /// True once the final response's head has been read and a byte after it has arrived:
    /// a client's time to the first byte of the body (a benchmark times streamed answers).
    public private(set) var bodyHasBegun = false
    private var finished = false
    private var responded = false

    /// The bytes received after the response, once `next()` has returned it: the start of
    /// the next response on a connection that carries several (a keep-alive client reads
    /// each with a new parser). Empty until then.
    public var bytesAfterResponse: ArraySlice<UInt8> { responded ? buffer[start...] : [] }

    public init(requestMethod: String, limits: HTTPLimits = HTTPLimits(), keepsBody: Bool = true) {
        self.requestMethod = requestMethod
        self.limits = limits
        self.keepsBody = keepsBody
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The response once it is whole, or nil until more bytes arrive (a body delimited by
    /// the connection's end comes out of `finish()`).
    /// - Throws: `HTTPResponseError` (`.malformed` or `.tooLarge`).
    public mutating func next() throws(HTTPResponseError) -> HTTPReceivedResponse? {
        precondition(!finished, "HTTPResponseParser used after its response or an error")
        do throws(HTTPResponseError) {
            let response = try parse(atEnd: false)
            if response != nil { finished = true }
            return response
        } catch {
            finished = true
            throw error
        }
    }

    /// The response at the connection's end: whole, or delimited by the end.
    /// - Throws: `HTTPResponseError` (`.truncated` when the end cut it short).
    public mutating func finish() throws(HTTPResponseError) -> HTTPReceivedResponse {
        precondition(!finished, "HTTPResponseParser used after its response or an error")
        finished = true
        guard let response = try parse(atEnd: true) else {
            throw HTTPResponseError(.truncated, head == nil ? "the connection closed inside the response head"
                                                            : "the connection closed inside the response body")
        }
        return response
    }

    private mutating func parse(atEnd: Bool) throws(HTTPResponseError) -> HTTPReceivedResponse? {
        do throws(HTTPParseError) {
            while head == nil {
                guard let end = findHeadEnd(buffer, start: &start, scan: &scan, lineStart: &lineStart, skipLeadingEmptyLines: false) else {
                    if buffer.count - start > limits.maxHeadBytes { throw HTTPParseError(431, .headerFieldsTooLarge, "the response head exceeds \(limits.maxHeadBytes) bytes") }
                    return nil
                }
                guard end - start <= limits.maxHeadBytes else {
                    throw HTTPParseError(431, .headerFieldsTooLarge, "the response head exceeds \(limits.maxHeadBytes) bytes")
                }
                let lines = try headLines(buffer[start..<end])
                start = end
                let (version, status) = try statusLine(lines.first ?? [])
                let headers = try headerFields(lines.dropFirst(), limits: limits)
                if (100..<200).contains(status) && status != 101 { continue }  // interim: the final one follows
                head = (version, status, headers, try framing(status: status, headers: headers))
            }
            guard let (version, status, headers, framing) = head else { return nil }
            if buffer.count > start { bodyHasBegun = true }
            var body: [UInt8]
            switch framing {
            case .length(let length) where keepsBody:
                bodyByteCount = min(length, buffer.count - start)
                guard bodyByteCount == length else { return nil }
                body = Array(buffer[start..<start + length])
                start += length
            case .length(let length):
                let taken = min(length - bodyByteCount, buffer.count - start)
                bodyByteCount += taken
                start += taken
                compact()
                guard bodyByteCount == length else { return nil }
                body = []
            case .chunked:
                var chunks = decoder ?? ChunkedDecoder(keepsData: keepsBody)
                decoder = nil
                defer { decoder = chunks }
                start = try chunks.decode(buffer, from: start, limits: limits)
                bodyByteCount = chunks.dataCount
                compact()
                guard chunks.isDone else { return nil }
                body = chunks.body
            case .close where keepsBody:
                guard buffer.count - start <= limits.maxBodyBytes else {
                    throw HTTPParseError(413, .payloadTooLarge, "the response body exceeds \(limits.maxBodyBytes) bytes")
                }
                bodyByteCount = buffer.count - start
                guard atEnd else { return nil }
                body = Array(buffer[start...])
                start = buffer.count
            case .close:
                bodyByteCount += buffer.count - start
                start = buffer.count
                compact()
                guard bodyByteCount <= limits.maxBodyBytes else {
                    throw HTTPParseError(413, .payloadTooLarge, "the response body exceeds \(limits.maxBodyBytes) bytes")
                }
                guard atEnd else { return nil }
                body = []
            }
            responded = true
            return HTTPReceivedResponse(version: version, status: status, headers: headers, body: body)
        } catch {
            throw HTTPResponseError(error.status == 413 || error.status == 431 ? .tooLarge : .malformed, error.message)
        }
    }

    /// Hands every byte buffer the parser holds to `wipe` (a response may carry tokens;
    /// the caller owns the way to clear memory), and empties them.
    public mutating func wipe(_ wipe: (inout [UInt8]) -> Void) {
        wipe(&buffer)
        if var chunks = decoder {
            decoder = nil
            chunks.wipe(wipe)
            head = nil
        }
        buffer = []
        start = 0
        scan = 0
        lineStart = 0
    }

    /// Drops the chunked bytes already decoded.
    private mutating func compact() {
        guard start > 0 else { return }
        buffer.removeFirst(start)
        start = 0
        scan = 0
        lineStart = 0
    }

    /// `HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4); the SP before an
    /// empty reason may be missing, as some servers send it so.
    private func statusLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (HTTPVersion, Int) {
        let bytes = Array(line)
        guard bytes.count >= 12, bytes[8] == space, bytes[9...11].allSatisfy(isDigit), bytes.count == 12 || bytes[12] == space else {
            throw .badRequest("the status line is not HTTP-VERSION SP STATUS SP REASON")
        }
        let version: HTTPVersion
        switch String(decoding: bytes[0..<8], as: UTF8.self) {
        case "HTTP/1.1": version = .http11
        case "HTTP/1.0": version = .http10
        default: throw .badRequest("the status line does not begin with HTTP/1.0 or HTTP/1.1")
        }
        let status = bytes[9...11].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        guard (100...599).contains(status) else { throw .badRequest("the status code is not between 100 and 599") }
        guard bytes.dropFirst(12).allSatisfy(isFieldValueByte) else {
            throw .badRequest("the reason phrase holds a control byte")
        }
        return (version, status)
    }

    /// How the body is delimited (RFC 9112 §6.3).
    private func framing(status: Int, headers: HTTPHeaders) throws(HTTPParseError) -> Framing {
        let length = try contentLength(headers)
        if requestMethod == "HEAD" || HTTPStatus.hasNoBody(status) { return .length(0) }
        let codings = headers.values("Transfer-Encoding").flatMap { $0.split(separator: ",") }.map { trimmed($0) }
        if !codings.isEmpty {
            guard length == nil else { throw .badRequest("both Transfer-Encoding and Content-Length") }
            guard codings.count == 1, HTTPHeaders.sameName(codings[0], "chunked") else {
                throw .badRequest("a transfer coding other than chunked")
            }
            return .chunked
        }
        guard let length else { return .close }
        guard length <= limits.maxBodyBytes else {
            throw HTTPParseError(413, .payloadTooLarge, "the response body exceeds \(limits.maxBodyBytes) bytes")
        }
        return .length(length)
    }
}
