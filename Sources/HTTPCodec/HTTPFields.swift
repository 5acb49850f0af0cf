// The rules a request head and a response head share (RFC 9112 §2, §5, §6.3), written once
// so that the bridge's server, the CLI's callback listener and the agent's loopback client
// cannot disagree about where a message ends.

/// Splits a head (ending with its empty line) into lines without their line ends. A line
/// may end in CRLF or a bare LF (RFC 9112 §2.2); a CR anywhere else is refused, as a bare
/// CR is what header injection and response splitting ride on.
/// - Throws: `HTTPParseError` 400 for a bare CR.
func headLines(_ head: ArraySlice<UInt8>) throws(HTTPParseError) -> [ArraySlice<UInt8>] {
    var lines: [ArraySlice<UInt8>] = []
    var lineBegin = head.startIndex
    for index in head.indices where head[index] == lf {
        var line = head[lineBegin..<index]
        if line.last == cr { line = line.dropLast() }
        lines.append(line)
        lineBegin = index + 1
    }
    if lines.contains(where: { $0.contains(cr) }) { throw .badRequest("a bare CR in the message head") }
    return lines
}

/// The header fields of a head's lines after its start line, at most `limits.maxHeaderCount`.
/// - Throws: `HTTPParseError` 431 for too many fields, 400 for a malformed one.
func headerFields(_ lines: ArraySlice<ArraySlice<UInt8>>, limits: HTTPLimits) throws(HTTPParseError) -> HTTPHeaders {
    let fieldLines = lines.filter { !$0.isEmpty }
    guard fieldLines.count <= limits.maxHeaderCount else {
        throw HTTPParseError(431, .headerFieldsTooLarge, "more than \(limits.maxHeaderCount) header fields")
    }
    var headers = HTTPHeaders()
    for line in fieldLines {
        let (name, value) = try headerField(line)
        headers.append(name, value)
    }
    return headers
}

/// One `name: value` line (RFC 9110 §5.1, RFC 9112 §5): no obsolete line folding, no
/// whitespace before the colon, no control byte in the value.
/// - Throws: `HTTPParseError` 400.
func headerField(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (String, String) {
    guard let first = line.first, first != space, first != tab else {
        throw .badRequest("obsolete line folding is not accepted")
    }
    guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
        throw .badRequest("a header line without a colon")
    }
    let name = line[line.startIndex..<colon]
    guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
        throw .badRequest("a header name is empty or not a token (no whitespace before the colon)")
    }
    var value = line[(colon + 1)...]
    while let byte = value.first, byte == space || byte == tab { value = value.dropFirst() }
    while let byte = value.last, byte == space || byte == tab { value = value.dropLast() }
    guard value.allSatisfy(isFieldValueByte) else {
        throw .badRequest("a header value holds a control byte")
    }
    return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
}

/// The most digits a `Content-Length` may have: 18 nines is below `Int.max` (19 digits),
/// so parsing never overflows, and no body the limits allow comes near it.
let maxContentLengthDigits = 18

/// The declared `Content-Length`, or nil when there is none. A list of identical values
/// (`5, 5`, or the field repeated with the same value) counts as one; values that differ,
/// or are not plain decimal digits, make the message unreadable (RFC 9112 §6.3 item 5).
/// At most `maxContentLengthDigits` digits, so the value never overflows; the caller
/// checks it against its limit.
/// - Throws: `HTTPParseError` 400.
func contentLength(_ headers: HTTPHeaders) throws(HTTPParseError) -> Int? {
    let declared = headers.values("Content-Length").flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
    var length: Int?
    for text in declared {
        let digits = trimmed(text)
        guard !digits.isEmpty, digits.utf8.count <= maxContentLengthDigits, digits.utf8.allSatisfy(isDigit),
              let value = Int(digits) else {
            throw .badRequest("Content-Length is not a number")
        }
        if let length, length != value { throw .badRequest("Content-Length values differ") }
        length = value
    }
    return length
}

/// Finds the end of a head (the byte after its empty line) in `buffer` from `start`,
/// resuming at `scan` with the current line beginning at `lineStart`. Empty lines before
/// the start line are skipped when `skipLeadingEmptyLines` (a server must, RFC 9112 §2.2);
/// `start` then moves past them.
func findHeadEnd(_ buffer: [UInt8], start: inout Int, scan: inout Int, lineStart: inout Int, skipLeadingEmptyLines: Bool) -> Int? {
    if scan < start { scan = start }
    if lineStart < start { lineStart = start }
    while scan < buffer.count {
        let byte = buffer[scan]
        scan += 1
        guard byte == lf else { continue }
        let length = scan - 1 - lineStart
        let empty = length == 0 || (length == 1 && buffer[lineStart] == cr)
        if empty {
            if lineStart == start {
                guard skipLeadingEmptyLines else { return scan }  // an empty start line: the caller refuses it
                start = scan
                lineStart = scan
                continue
            }
            return scan
        }
        lineStart = scan
    }
    return nil
}

let cr = UInt8(ascii: "\r")
let lf = UInt8(ascii: "\n")
let space = UInt8(ascii: " ")
let tab = UInt8(ascii: "\t")

func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

/// A byte a field value, a reason phrase or a chunk extension may hold: HTAB, SP, visible
/// ASCII and obs-text (RFC 9110 §5.5); never CR, LF, NUL or another control byte, which
/// parsers and the head writer both refuse.
func isFieldValueByte(_ byte: UInt8) -> Bool { byte == tab || byte >= 0x20 && byte != 0x7F }

/// RFC 9110 `tchar`: the bytes of methods and header names.
public func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
         UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
         UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default: return false
    }
}
