import AgentProtocol
import HTTPCodec

/// A response: status, header fields and a body, serialized whole so the head and the
/// body leave in one write (with `TCP_NODELAY`, a split write costs a packet each and,
/// without it, a 40 ms delayed-ACK stall).
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Fields a handler chose; `serialized` adds the framing and policy ones.
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Close the connection after this response even if the request allowed keep-alive
    /// (errors the parser cannot recover from).
    public var closesConnection = false

    public init(status: Int, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    // MARK: Builders

    /// A JSON body, serialized compactly as the original router's serde_json did.
    public static func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: value.serialized())
    }

    /// `{"error": "<code>", "message": "..."}`: the code is stable, the message is for people.
    /// A route's own members (`/healthz`'s `"ok": false`) come first, in `leading`'s order.
    public static func error(_ status: Int, _ code: HTTPErrorCode, _ message: String, leading: JSONObject = [:]) -> HTTPResponse {
        var object = leading
        object["error"] = .string(code.rawValue)
        object["message"] = .string(message)
        return json(status, .object(object))
    }

    /// An HTML page. Text from requests or the agent must already be escaped.
    public static func html(_ status: Int, _ page: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/html; charset=utf-8"], body: Array(page.utf8))
    }

    /// `303 See Other`, so a browser follows with GET (after a form post, or to drop a
    /// token from the address bar).
    public static func redirect(to location: String) -> HTTPResponse {
        HTTPResponse(status: 303, headers: ["Location": location])
    }

    /// The answer to a request the parser refused; the connection closes after it.
    public static func parseError(_ error: HTTPParseError) -> HTTPResponse {
        var response = HTTPResponse.error(error.status, error.code, error.message)
        response.closesConnection = true
        return response
    }

    // MARK: Serialization

    /// The bytes on the wire.
    /// - Parameters:
    ///   - version: the request's version; the status line always says HTTP/1.1 (RFC 9110
    ///     §6.2: a server sends its own highest version).
    ///   - keepAlive: whether the connection stays open; an HTTP/1.0 client is told
    ///     `Connection: keep-alive` since that is not its default, and any client is told
    ///     `Connection: close` when it will close.
    ///   - omitBody: for HEAD: the same fields, Content-Length included, and no body.
    ///   - date: Unix seconds for the `Date` field.
    public func serialized(version: HTTPVersion, keepAlive: Bool, omitBody: Bool = false, date: Int64) -> [UInt8] {
        var bytes = serializedHead(version: version, keepAlive: keepAlive, framing: .length(body.count), date: date)
        if !omitBody && !HTTPStatus.hasNoBody(status) { bytes += body }
        return bytes
    }

    /// How the body's end is marked (RFC 9112 §6).
    public enum Framing: Equatable, Sendable {
        /// `Content-Length`: the body is known whole.
        case length(Int)
        /// `Transfer-Encoding: chunked`: a streamed body to an HTTP/1.1 client.
        case chunked
        /// Neither: the body ends when the connection closes (a streamed body to an
        /// HTTP/1.0 client, which cannot read chunks).
        case untilClose
    }

    /// The status line and header fields, with the framing and policy fields added, written
    /// by `HTTPHeadWriter`. A field it cannot write (a CR, LF or other control byte in the
    /// value, as an upstream's answer might carry; a name that is not a token) is left out,
    /// so that no response splits and the server keeps serving.
    public func serializedHead(version: HTTPVersion, keepAlive: Bool, framing: Framing, date: Int64) -> [UInt8] {
        var fields = HTTPHeaders()
        for (name, value) in headers
        where !Self.framingFields.contains(where: { HTTPHeaders.sameName($0, name) }) && HTTPHeadWriter.canWrite(name: name, value: value) {
            fields.append(name, value)
        }
        switch framing {
        case .length(let count): fields.append("Content-Length", String(count))
        case .chunked: if !HTTPStatus.hasNoBody(status) { fields.append("Transfer-Encoding", "chunked") }
        case .untilClose: break
        }
        if fields["Cache-Control"] == nil { fields.append("Cache-Control", "no-store") }
        fields.append("X-Content-Type-Options", "nosniff")
        fields.append("Date", HTTPDate.format(date))
        if !keepAlive {
            fields.append("Connection", "close")
        } else if version == .http10 {
            fields.append("Connection", "keep-alive")
        }
        do throws(HTTPHeadError) {
            return try HTTPHeadWriter.response(status: status, fields: fields)
        } catch {
            preconditionFailure("a response head that cannot be written (a bug): \(error)")
        }
    }

    /// One chunk of a chunked body (RFC 9112 §7.1); empty bytes make the last chunk.
    public static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        var framed = Array("\(String(bytes.count, radix: 16))\r\n".utf8)
        framed.reserveCapacity(framed.count + bytes.count + 2)
        framed += bytes
        framed += [13, 10]
        return framed
    }

    /// Fields the server owns: a handler cannot set them, so a response cannot lie about
    /// its own framing.
    private static let framingFields = ["Content-Length", "Transfer-Encoding", "Connection", "Date"]

    /// The interim answer to `Expect: 100-continue`.
    static let continueLine: [UInt8] = {
        do throws(HTTPHeadError) {
            return try HTTPHeadWriter.response(status: 100, fields: [:])
        } catch {
            preconditionFailure("100 Continue cannot be written (a bug): \(error)")
        }
    }()
}
