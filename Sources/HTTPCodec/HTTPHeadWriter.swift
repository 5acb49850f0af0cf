/// A head this project cannot write: the message names the part that is wrong (and a
/// field's name), never a field's value, which may hold a token.
public struct HTTPHeadError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Writes message heads (RFC 9112 §3, §4, §5): the start line, the header fields and the
/// empty line. The one place this project puts a head on the wire: the bridge's and the
/// endpoint's responses, the CLI's callback page and the agent's loopback requests.
///
/// It writes no line that the parsers here would split or refuse: a start line and fields
/// with no CR, LF or other control byte in them, so that no value, whatever its source,
/// can end a line early and smuggle in a field or a second message (RFC 9110 §5.5: CR, LF
/// and NUL in a field value are "invalid and dangerous"; RFC 9112 §2.2).
public enum HTTPHeadWriter {
    /// `HTTP/1.1 <status> <reason>`, the fields in order, the empty line. The version is
    /// always HTTP/1.1 (RFC 9110 §6.2: a server sends its own highest version); the reason
    /// is `HTTPStatus.reasonPhrase`.
    /// - Throws: `HTTPHeadError` for a status that is not three digits (RFC 9112 §4) or a
    ///   field `canWrite` refuses.
    public static func response(status: Int, fields: HTTPHeaders) throws(HTTPHeadError) -> [UInt8] {
        guard (100...999).contains(status) else { throw HTTPHeadError("the status \(status) is not three digits") }
        var head = startedHead()
        head += "HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(status))".utf8
        try finish(&head, fields: fields)
        return head
    }

    /// `<method> <target> HTTP/1.1`, the fields in order, the empty line (RFC 9112 §3).
    /// - Throws: `HTTPHeadError` for a method that is not a token, a target that is empty
    ///   or holds a space or control byte (RFC 9112 §3.2), or a field `canWrite` refuses.
    public static func request(method: String, target: String, fields: HTTPHeaders) throws(HTTPHeadError) -> [UInt8] {
        guard !method.isEmpty, method.utf8.allSatisfy(isTokenByte) else { throw HTTPHeadError("the method is not a token") }
        guard !target.isEmpty, target.utf8.allSatisfy({ $0 > space && $0 < 0x7F }) else {
            throw HTTPHeadError("the request target is empty or holds a space or control byte")
        }
        var head = startedHead()
        head += method.utf8
        head.append(space)
        head += target.utf8
        head += " HTTP/1.1".utf8
        try finish(&head, fields: fields)
        return head
    }

    /// Whether a field can be written as it is: its name a token (RFC 9110 §5.1), its
    /// value free of CR, LF, NUL and every other control byte but HTAB (§5.5), as the
    /// parsers here require of what they read.
    public static func canWrite(name: some StringProtocol, value: some StringProtocol) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(isTokenByte) && value.utf8.allSatisfy(isFieldValueByte)
    }

    /// An empty head with room for a typical one, so appending rarely reallocates.
    private static func startedHead() -> [UInt8] {
        var head: [UInt8] = []
        head.reserveCapacity(512)
        return head
    }

    /// Ends the start line, writes the fields and the empty line.
    private static func finish(_ head: inout [UInt8], fields: HTTPHeaders) throws(HTTPHeadError) {
        head += [cr, lf]
        for (name, value) in fields {
            guard canWrite(name: name, value: value) else {
                throw HTTPHeadError(name.utf8.allSatisfy(isTokenByte) && !name.isEmpty
                                    ? "the value of the header field \(name) holds a CR, LF or other control byte"
                                    : "a header field name is empty or not a token")
            }
            head += name.utf8
            head += [UInt8(ascii: ":"), space]
            head += value.utf8
            head += [cr, lf]
        }
        head += [cr, lf]
    }
}
