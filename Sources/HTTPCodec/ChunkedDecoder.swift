/// An incremental decoder of the chunked transfer coding (RFC 9112 §7.1): encoded bytes go
/// in as they arrive, the body comes out once the last chunk and its trailer section have.
///
/// It consumes only whole units (a size line, a chunk's data, the CRLF after it, a trailer
/// line) from bytes already received, so the body or the error is the same however the
/// bytes are split. Strict where lax chunk parsing has let requests be smuggled: size and
/// trailer lines end in CRLF, a chunk's data is followed by exactly CRLF, a size is one or
/// more hex digits checked against the body limit as each digit is read (it never
/// overflows), extensions are skipped but hold no control byte. Trailer fields are read
/// as header fields and dropped (§7.1.2 lets a recipient discard them).
struct ChunkedDecoder {
    private enum State {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailer(lines: Int)
        case done
    }

    private var state = State.size
    /// Whether `body` keeps the decoded bytes; when false they are only counted.
    let keepsData: Bool
    /// The decoded body so far (empty when `keepsData` is false).
    private(set) var body: [UInt8] = []
    /// How many bytes have been decoded so far.
    private(set) var dataCount = 0
    /// Bytes of the trailer section so far, bounded like a head.
    private var trailerBytes = 0

    init(keepsData: Bool = true) {
        self.keepsData = keepsData
    }

    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Hands the decoded body to `wipe`, then empties it.
    mutating func wipe(_ wipe: (inout [UInt8]) -> Void) {
        wipe(&body)
        body = []
    }

    /// Decodes what it can of `buffer[position...]` and returns the position after the
    /// bytes it consumed.
    /// - Throws: `HTTPParseError` 413 for a body over `limits.maxBodyBytes`, 400 otherwise.
    mutating func decode(_ buffer: [UInt8], from start: Int, limits: HTTPLimits) throws(HTTPParseError) -> Int {
        var position = start
        while true {
            switch state {
            case .done:
                return position
            case .size:
                guard let line = try Self.line(buffer, from: position, limit: limits.maxHeadBytes) else { return position }
                position = line.next
                let size = try chunkSize(buffer[line.range], limits: limits)
                state = size == 0 ? .trailer(lines: 0) : .data(remaining: size)
            case .data(let remaining):
                let available = min(remaining, buffer.count - position)
                guard available > 0 else { return position }
                if keepsData { body += buffer[position..<position + available] }
                dataCount += available
                position += available
                state = remaining == available ? .dataEnd : .data(remaining: remaining - available)
            case .dataEnd:
                guard buffer.count - position >= 2 else {
                    if position < buffer.count && buffer[position] != cr { throw .badRequest("a chunk's data is not followed by CRLF") }
                    return position
                }
                guard buffer[position] == cr && buffer[position + 1] == lf else {
                    throw .badRequest("a chunk's data is not followed by CRLF")
                }
                position += 2
                state = .size
            case .trailer(let lines):
                guard let line = try Self.line(buffer, from: position, limit: limits.maxHeadBytes - trailerBytes) else {
                    return position
                }
                trailerBytes += line.next - position
                position = line.next
                if line.range.isEmpty {
                    state = .done
                } else {
                    guard lines < limits.maxHeaderCount else {
                        throw HTTPParseError(431, .headerFieldsTooLarge, "more than \(limits.maxHeaderCount) trailer fields")
                    }
                    _ = try headerField(buffer[line.range])
                    state = .trailer(lines: lines + 1)
                }
            }
        }
    }

    /// The next CRLF-terminated line from `start`: its bytes and where the next begins; nil
    /// until its end arrives.
    /// - Throws: `HTTPParseError` 431 for a line longer than `limit`, 400 for a bare CR or LF.
    private static func line(_ buffer: [UInt8], from start: Int, limit: Int) throws(HTTPParseError) -> (range: Range<Int>, next: Int)? {
        var index = start
        while index < buffer.count {
            if index - start > limit {
                throw HTTPParseError(431, .headerFieldsTooLarge, "a chunk line exceeds \(limit) bytes")
            }
            switch buffer[index] {
            case lf: throw .badRequest("a chunk line ends in a bare LF")
            case cr:
                guard index + 1 < buffer.count else { return nil }
                guard buffer[index + 1] == lf else { throw .badRequest("a bare CR in a chunk line") }
                return (start..<index, index + 2)
            default: index += 1
            }
        }
        if index - start > limit { throw HTTPParseError(431, .headerFieldsTooLarge, "a chunk line exceeds \(limit) bytes") }
        return nil
    }

    /// `chunk-size [ chunk-ext ]`: hex digits, then nothing or `;` extensions (optional
    /// whitespace before the `;`, RFC 9112 §7.1.1).
    private func chunkSize(_ line: ArraySlice<UInt8>, limits: HTTPLimits) throws(HTTPParseError) -> Int {
        let room = limits.maxBodyBytes - dataCount
        var size = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = hexValue(line[index]) {
            // size ≤ room ≤ maxBodyBytes before the step, so size * 16 + 15 cannot overflow.
            size = size * 16 + digit
            guard size <= room else {
                throw HTTPParseError(413, .payloadTooLarge, "the chunked body exceeds \(limits.maxBodyBytes) bytes")
            }
            index += 1
        }
        guard index > line.startIndex else { throw .badRequest("a chunk size is not a hexadecimal number") }
        var rest = line[index...]
        while let byte = rest.first, byte == space || byte == tab { rest = rest.dropFirst() }
        guard rest.isEmpty || rest.first == UInt8(ascii: ";") else { throw .badRequest("a chunk size is not a hexadecimal number") }
        guard rest.allSatisfy(isFieldValueByte) else {
            throw .badRequest("a chunk extension holds a control byte")
        }
        return size
    }
}

private func hexValue(_ byte: UInt8) -> Int? {
    switch byte {
    case 0x30...0x39: return Int(byte - 0x30)
    case 0x41...0x46: return Int(byte - 0x41 + 10)
    case 0x61...0x66: return Int(byte - 0x61 + 10)
    default: return nil
    }
}
