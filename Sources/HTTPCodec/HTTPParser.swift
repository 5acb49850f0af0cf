/// The parser's limits, as named constants (as nginx and ssh-agent keep theirs): a peer
/// can never make the bridge buffer more than a head and a body of these sizes.
public struct HTTPLimits: Sendable {
    /// Request line plus header fields, with their line ends (nginx's default buffer).
    public var maxHeadBytes = 8 * 1024
    /// A request body; the bridge's bodies are a few hundred bytes of JSON or a form.
    public var maxBodyBytes = 64 * 1024
    /// Header fields per request.
    public var maxHeaderCount = 100

    public init() {}
}

/// A request the parser refuses, with the status to answer before closing the connection.
public struct HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var status: Int
    /// A stable snake_case code for the JSON error body.
    public var code: HTTPErrorCode
    public var message: String

    public init(_ status: Int, _ code: HTTPErrorCode, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status) \(code): \(message)" }

    static func badRequest(_ message: String) -> HTTPParseError { HTTPParseError(400, .badRequest, message) }
}

/// An incremental HTTP/1.1 request parser (RFC 9112): bytes go in as they arrive, whole
/// requests come out, pipelined ones in order.
///
/// Strict where leniency has bitten servers before (request smuggling, header
/// injection): no obsolete line folding, no bare CR, no NUL or other control bytes in
/// fields, no whitespace before a colon, one Content-Length, no transfer codings. A line
/// may end in a bare LF, which RFC 9112 §2.2 allows a recipient to accept.
///
/// After an error the parser is spent: the server answers the error and closes.
public struct HTTPParser {
    public let limits: HTTPLimits
    private var buffer: [UInt8] = []
    /// The first byte of the request being read.
    private var start = 0
    /// How far the search for the end of the head got, and where its current line began.
    private var scan = 0
    private var lineStart = 0
    /// A head read whose body is still arriving.
    private var pending: (request: HTTPRequest, bodyLength: Int)?
    /// Set when a head asked for `100 Continue` and its body has not arrived.
    private var continueOwed = false
    /// Set after a POST, PUT or PATCH without `Content-Length`: its body was taken as empty
    /// (RFC 9112 §6.3), so bytes that follow and cannot begin a request are the body it
    /// should have declared, answered 411 rather than 400.
    private var lengthlessBodyMayFollow = false
    private var failed = false

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received and not yet consumed by a whole request.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Whether part of a request has arrived (so a time-out cuts a request, not an idle
    /// connection).
    public var hasPartialRequest: Bool { pending != nil || bufferedByteCount > 0 }

    /// True once after a head with `Expect: 100-continue` whose body has yet to come: the
    /// server then sends `100 Continue` (curl waits a second for it otherwise).
    public mutating func takeContinueRequest() -> Bool {
        defer { continueOwed = false }
        return continueOwed
    }

    /// The next complete request, or nil until more bytes arrive.
    /// - Throws: `HTTPParseError` with the status to answer; the connection must close.
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        precondition(!failed, "HTTPParser used after an error")
        do throws(HTTPParseError) {
            return try parseNext()
        } catch {
            failed = true
            throw error
        }
    }

    /// Every decision below looks only at bytes already received and never at whether
    /// more are buffered than needed, so the requests and errors that come out are the
    /// same however the stream is split into `append` calls (the one exception is the
    /// interim `100 Continue`, owed only while a body is still missing, which RFC 9110
    /// §10.1.1 lets a server omit once it has the content).
    private mutating func parseNext() throws(HTTPParseError) -> HTTPRequest? {
        if pending == nil {
            if lengthlessBodyMayFollow {
                switch canBeginRequest() {
                case .none: return nil
                case .some(false):
                    throw HTTPParseError(411, .lengthRequired, "a request body needs a Content-Length header")
                case .some(true): lengthlessBodyMayFollow = false
                }
            }
            guard let end = findHeadEnd(buffer, start: &start, scan: &scan, lineStart: &lineStart, skipLeadingEmptyLines: true) else {
                if buffer.count - start > limits.maxHeadBytes {
                    throw HTTPParseError(431, .headerFieldsTooLarge, "the request line and headers exceed \(limits.maxHeadBytes) bytes")
                }
                return nil
            }
            guard end - start <= limits.maxHeadBytes else {
                throw HTTPParseError(431, .headerFieldsTooLarge, "the request line and headers exceed \(limits.maxHeadBytes) bytes")
            }
            let head = try parseHead(buffer[start..<end])
            start = end
            let bodyLength = try self.bodyLength(of: head)
            pending = (head, bodyLength)
            if bodyLength > 0 && bufferedByteCount < bodyLength && head.version == .http11
                && head.headers["Expect"] != nil {
                continueOwed = true
            }
        }
        guard let (head, bodyLength) = pending, bufferedByteCount >= bodyLength else { return nil }
        var request = head
        request.body = Array(buffer[start..<start + bodyLength])
        start += bodyLength
        // Line ends some clients add after a body are not the next request (RFC 9112 §2.2).
        // Dropping them now keeps an idle connection from looking like a slow request; only
        // whole empty lines (CRLF or LF) go, exactly those `findHeadEnd` skips before a
        // request line, so the same bytes mean the same however they were split.
        while true {
            if start < buffer.count && buffer[start] == lf {
                start += 1
            } else if start + 1 < buffer.count && buffer[start] == cr && buffer[start + 1] == lf {
                start += 2
            } else {
                break
            }
        }
        pending = nil
        continueOwed = false
        compact()
        return request
    }

    /// Drops consumed bytes when they are most of the buffer, so pipelined requests do not
    /// cost a copy each.
    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 2 * (limits.maxHeadBytes + limits.maxBodyBytes))
        } else if start > buffer.count / 2 {
            buffer.removeFirst(start)
        } else {
            scan = max(scan, start)
            lineStart = max(lineStart, start)
            return
        }
        start = 0
        scan = 0
        lineStart = 0
    }

    /// Parses the request line and header fields (`head` ends with the empty line).
    private func parseHead(_ head: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPRequest {
        let lines = try headLines(head)
        guard let requestLine = lines.first else { throw .badRequest("empty request") }
        var (request, authority) = try parseRequestLine(requestLine)
        request.headers = try headerFields(lines.dropFirst(), limits: limits)
        // HTTP/1.1 requires exactly one Host (RFC 9112 §3.2); an absolute-form target's
        // authority replaces it (§3.2.2).
        let hosts = request.headers.values("Host")
        guard hosts.count <= 1 else { throw .badRequest("more than one Host header") }
        if let authority {
            request.headers.set("Host", authority)
        } else if request.version == .http11 && hosts.isEmpty {
            throw .badRequest("an HTTP/1.1 request needs a Host header")
        }
        return request
    }

    /// The request line; for an absolute-form target also its authority.
    private func parseRequestLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (HTTPRequest, String?) {
        let parts = line.split(separator: space, omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw .badRequest("the request line must be: METHOD SP TARGET SP HTTP-VERSION")
        }
        let (method, target, version) = (parts[0], parts[1], Array(parts[2]))
        guard method.allSatisfy(isTokenByte) else { throw .badRequest("the method is not a token") }
        guard target.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw .badRequest("the request target holds a byte that must be percent-encoded")
        }
        let parsedVersion: HTTPVersion
        if version == Array("HTTP/1.1".utf8) {
            parsedVersion = .http11
        } else if version == Array("HTTP/1.0".utf8) {
            parsedVersion = .http10
        } else if version.count == 8 && version.starts(with: "HTTP/".utf8) && isDigit(version[5])
                    && version[6] == UInt8(ascii: ".") && isDigit(version[7]) {
            throw HTTPParseError(505, .httpVersionNotSupported, "only HTTP/1.0 and HTTP/1.1 are spoken here")
        } else {
            throw .badRequest("the request line does not end in an HTTP version")
        }
        let methodText = String(decoding: method, as: UTF8.self)
        let targetText = String(decoding: target, as: UTF8.self)
        var request = HTTPRequest(method: methodText, target: targetText, version: parsedVersion)
        if targetText.hasPrefix("/") || (targetText == "*" && methodText == "OPTIONS") {
            return (request, nil)
        }
        // The absolute form, which servers must accept (RFC 9112 §3.2.2).
        guard targetText.lowercased().hasPrefix("http://") else {
            throw .badRequest("the request target must be a path (or an http:// URI)")
        }
        let rest = targetText.dropFirst(7)
        let end = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = String(rest[..<end])
        guard !authority.isEmpty, !authority.contains("@") else { throw .badRequest("the request target has no usable authority") }
        let path = String(rest[end...])
        request.target = path.hasPrefix("/") ? path : "/" + path
        return (request, authority)
    }

    /// The body's length from Content-Length; refuses transfer codings and bodies we
    /// cannot delimit.
    private mutating func bodyLength(of request: HTTPRequest) throws(HTTPParseError) -> Int {
        let codings = request.headers.values("Transfer-Encoding")
        if !codings.isEmpty {
            if request.headers.contains("Transfer-Encoding", token: "chunked") {
                throw HTTPParseError(501, .notImplemented, "chunked request bodies are not supported")
            }
            throw HTTPParseError(501, .notImplemented, "transfer codings are not supported")
        }
        if let expectation = request.headers["Expect"], request.version == .http11,
           !HTTPHeaders.sameName(expectation, "100-continue") {
            throw HTTPParseError(417, .expectationFailed, "only Expect: 100-continue is understood")
        }
        guard let length = try contentLength(request.headers) else {
            if ["POST", "PUT", "PATCH"].contains(request.method) {
                // A Content-Type describes a body the head did not delimit.
                if request.headers["Content-Type"] != nil {
                    throw HTTPParseError(411, .lengthRequired, "a request body needs a Content-Length header")
                }
                lengthlessBodyMayFollow = true
            }
            return 0
        }
        let value = length
        guard value <= limits.maxBodyBytes else {
            throw HTTPParseError(413, .payloadTooLarge, "the request body exceeds \(limits.maxBodyBytes) bytes")
        }
        return value
    }

    /// Whether the bytes at `start` can begin a request: empty lines (CRLF or LF), then a
    /// method token and a space. A JSON or form body cannot: it starts with `{`, `[` or
    /// `"`, or holds `=` or `&` before any space. nil until the bytes received decide it.
    private func canBeginRequest() -> Bool? {
        var index = start
        while index < buffer.count {
            if buffer[index] == lf {
                index += 1
            } else if buffer[index] == cr {
                guard index + 1 < buffer.count else { return nil }
                guard buffer[index + 1] == lf else { return false }
                index += 2
            } else {
                break
            }
        }
        let methodStart = index
        while index < buffer.count {
            let byte = buffer[index]
            if byte == space { return index > methodStart }
            if !isTokenByte(byte) { return false }
            index += 1
        }
        return nil
    }
}

extension HTTPHeaders {
    /// Replaces every value of `name` with `value`.
    public mutating func set(_ name: String, _ value: String) {
        var kept = HTTPHeaders()
        for field in self where !HTTPHeaders.sameName(field.name, name) { kept.append(field.name, field.value) }
        kept.append(name, value)
        self = kept
    }
}

