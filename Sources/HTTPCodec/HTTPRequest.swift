import AgentProtocol

/// The two HTTP versions the bridge speaks. Clients of HTTP/2 over cleartext fall back to
/// HTTP/1.1 on their own; nothing here needs more.
public enum HTTPVersion: Equatable, Sendable, CustomStringConvertible {
    case http10, http11

    public var description: String { self == .http10 ? "HTTP/1.0" : "HTTP/1.1" }
}

/// Header fields in the order received. Names compare case-insensitively (RFC 9110
/// §5.1); values are kept as sent, minus the optional whitespace around them.
public struct HTTPHeaders: Sequence, Sendable, ExpressibleByDictionaryLiteral {
    public typealias Element = (name: String, value: String)
    private var fields: [Element] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { append(name, value) }
    }

    public mutating func append(_ name: String, _ value: String) {
        fields.append((name, value))
    }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        fields.first { Self.sameName($0.name, name) }?.value
    }

    /// Every value of `name`, in order (a header may be repeated).
    public func values(_ name: String) -> [String] {
        fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    /// Whether the comma-separated lists in `name` hold `token`, ignoring case (for
    /// `Connection: close`, `Connection: keep-alive`, `Transfer-Encoding: chunked`).
    public func contains(_ name: String, token: String) -> Bool {
        values(name).contains { value in
            value.split(separator: ",").contains { Self.sameName(trimmed($0), token) }
        }
    }

    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[Element]> { fields.makeIterator() }

    /// ASCII case-insensitive comparison: header names are ASCII tokens.
    public static func sameName(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        let x = a.utf8
        let y = b.utf8
        guard x.count == y.count else { return false }
        return zip(x, y).allSatisfy { lowercased($0) == lowercased($1) }
    }

    public static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
    }
}

/// Drops spaces and tabs at both ends (HTTP's optional whitespace).
public func trimmed(_ text: some StringProtocol) -> String {
    let bytes = Array(text.utf8)
    var start = 0
    var end = bytes.count
    while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
    while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
    return String(decoding: bytes[start..<end], as: UTF8.self)
}

/// One complete request as the parser hands it to a handler.
public struct HTTPRequest: Sendable {
    /// The method as sent; methods are case-sensitive (RFC 9110 §9.1), so `get` is not GET.
    public var method: String
    /// The request target as sent: `/path?query`.
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(method: String, target: String, version: HTTPVersion = .http11, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// The target's path, before any `?`. Not percent-decoded: routes match it segment by
    /// segment and decode only what they read.
    public var path: String {
        guard let mark = target.firstIndex(of: "?") else { return target }
        return String(target[..<mark])
    }

    /// The target's query, after the first `?`, or nil when there is none.
    public var query: String? {
        guard let mark = target.firstIndex(of: "?") else { return nil }
        return String(target[target.index(after: mark)...])
    }

    /// The decoded query parameters in order; nil when an escape is malformed.
    public var queryItems: [(String, String)]? {
        guard let query else { return [] }
        return PercentEncoding.parseQuery(query)
    }

    /// The first value of the query parameter `name`.
    public func queryValue(_ name: String) -> String? {
        queryItems?.first { $0.0 == name }?.1
    }

    /// Whether the connection may carry another request after this one (RFC 9112 §9.3):
    /// HTTP/1.1 persists unless `Connection: close`; HTTP/1.0 closes unless
    /// `Connection: keep-alive`.
    public var keepAlive: Bool {
        switch version {
        case .http11: return !headers.contains("Connection", token: "close")
        case .http10: return headers.contains("Connection", token: "keep-alive") && !headers.contains("Connection", token: "close")
        }
    }

    /// HEAD is answered like GET without the body.
    public var isHead: Bool { method == "HEAD" }
}
