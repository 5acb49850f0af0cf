extension JSONValue {
    /// Parses exactly one JSON value (RFC 8259) surrounded by optional whitespace.
    ///
    /// The input comes from untrusted peers, so parsing is strict (no extensions, no
    /// duplicate keys, UTF-8 validated) and never recurses: nesting beyond `maxDepth`
    /// arrays and objects is an error, not a stack overflow.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(JSONError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONError) -> JSONValue in
            var parser = JSONParser(input: buffer, maxDepth: maxDepth)
            return try parser.parseDocument()
        }
    }

    /// Parses as `parse(_:maxDepth:)` does and also returns where each member of every
    /// object (and each element of every array) reachable from the root through object
    /// members lies in `bytes`, for editing a document in place (`JSONTextEditor`).
    public static func parseWithSpans(_ bytes: [UInt8], maxDepth: Int = 64) throws(JSONError) -> (JSONValue, JSONSpans) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONError) -> (JSONValue, JSONSpans) in
            var parser = JSONParser(input: buffer, maxDepth: maxDepth)
            parser.spans = JSONSpans()
            let value = try parser.parseDocument()
            return (value, parser.spans ?? JSONSpans())
        }
    }

    /// Parses JSON text; see `parse(_:maxDepth:)` for bytes.
    public static func parse(_ text: String, maxDepth: Int = 64) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }
}

/// The ASCII bytes the grammar is written in.
private enum ASCII {
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let period: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let upperE: UInt8 = 0x45
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let lowerE: UInt8 = 0x65
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
}

/// A strict RFC 8259 parser over a borrowed byte buffer.
///
/// Nesting is handled with an explicit stack of open containers instead of recursion,
/// so hostile input such as 100 000 `[` costs a small heap allocation and a clean error.
/// Members of all open containers share one value stack (and one key stack), so each
/// finished array or object is allocated once at its exact size.
struct JSONParser {
    private let input: UnsafeBufferPointer<UInt8>
    private let maxDepth: Int
    private var position = 0
    /// Reused buffer for strings that contain escapes; strings without escapes are
    /// decoded straight from the input.
    private var scratch: [UInt8] = []
    /// Finished members of every open container, innermost last.
    private var values: [JSONValue] = []
    /// Keys of every open object, parallel to those objects' entries in `values`.
    private var keys: [String] = []
    /// Open containers, innermost last.
    private var stack: [OpenContainer] = []

    /// Where members lie, when asked for (`parseWithSpans`); nil on the hot path.
    fileprivate var spans: JSONSpans?

    /// Objects with more members than this check duplicates with a set, not a scan.
    private static let linearKeySearchLimit = 12

    init(input: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.input = input
        self.maxDepth = maxDepth
    }

    /// An array or object whose closing bracket has not been seen yet.
    private struct OpenContainer {
        var isObject: Bool
        /// Where this container's members start in `values`.
        var valueStart: Int
        /// Where this object's keys start in `keys`.
        var keyStart: Int
        /// This object's keys, filled only once it outgrows a linear duplicate scan.
        var keySet: Set<String> = []
        /// Where the container's bracket is, and its current member's key (for spans).
        var start = 0
        var memberKeyStart = 0
        var memberKeyEnd = 0
        /// Its path from the root through object members; nil inside an array or when
        /// spans are not recorded.
        var path: [String]?
    }

    /// The path of a container about to open as the innermost container's member.
    private func childPath() -> [String]? {
        guard spans != nil else { return nil }
        guard let parent = stack.last else { return [] }
        guard let path = parent.path, parent.isObject, let key = keys.last else { return nil }
        return path + [key]
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        var value: JSONValue
        /// Where the value being finished starts (for spans).
        var valueStart = 0

        nextValue: while true {
            // Read the start of a value: a scalar, an empty container, or the opening
            // of a container whose first member is read by the next iteration.
            skipWhitespace()
            guard position < input.count else { throw endOfInput() }
            valueStart = position
            switch input[position] {
            case ASCII.openBracket:
                try checkDepth()
                position += 1
                skipWhitespace()
                if position < input.count, input[position] == ASCII.closeBracket {
                    position += 1
                    if spans != nil, let path = childPath() { spans?.arrays[path] = .init(open: valueStart, close: position - 1) }
                    value = .array([])
                } else {
                    stack.append(OpenContainer(isObject: false, valueStart: values.count, keyStart: keys.count,
                                               start: valueStart, path: childPath()))
                    continue nextValue
                }
            case ASCII.openBrace:
                try checkDepth()
                position += 1
                skipWhitespace()
                if position < input.count, input[position] == ASCII.closeBrace {
                    position += 1
                    if spans != nil, let path = childPath() { spans?.objects[path] = .init(open: valueStart, close: position - 1) }
                    value = .object(JSONObject())
                } else {
                    stack.append(OpenContainer(isObject: true, valueStart: values.count, keyStart: keys.count,
                                               start: valueStart, path: childPath()))
                    try parseKey()
                    continue nextValue
                }
            default:
                value = try parseScalar()
            }

            // Attach the finished value to the innermost open container; each closing
            // bracket finishes that container, which is then attached to its parent.
            while true {
                let valueEnd = position
                skipWhitespace()
                guard let container = stack.last else {
                    guard position == input.count else { throw unexpectedByte() }
                    return value
                }
                values.append(value)
                if spans != nil, let path = container.path {
                    if container.isObject {
                        spans?.objects[path, default: .init(open: container.start, close: 0)].members.append(
                            .init(key: keys[keys.count - 1], keyStart: container.memberKeyStart, keyEnd: container.memberKeyEnd,
                                  valueStart: valueStart, valueEnd: valueEnd))
                    } else {
                        spans?.arrays[path, default: .init(open: container.start, close: 0)].elements.append(valueStart..<valueEnd)
                    }
                }
                guard position < input.count else { throw endOfInput() }
                let byte = input[position]
                if byte == ASCII.comma {
                    position += 1
                    if container.isObject {
                        skipWhitespace()
                        try parseKey()
                    }
                    continue nextValue
                } else if container.isObject, byte == ASCII.closeBrace {
                    position += 1
                    if spans != nil, let path = container.path { spans?.objects[path]?.close = position - 1 }
                    valueStart = container.start
                    value = .object(closeObject(container))
                } else if !container.isObject, byte == ASCII.closeBracket {
                    position += 1
                    if spans != nil, let path = container.path { spans?.arrays[path]?.close = position - 1 }
                    valueStart = container.start
                    value = .array(takeMembers(from: container.valueStart))
                    stack.removeLast()
                } else {
                    throw unexpectedByte()
                }
            }
        }
    }

    // MARK: - Structure

    private func checkDepth() throws(JSONError) {
        if stack.count >= maxDepth {
            throw JSONError(message: "nesting deeper than \(maxDepth)", offset: position)
        }
    }

    /// Removes and returns `values[start...]`. When that is the whole stack (always
    /// so for the outermost array) the storage is handed over instead of copied.
    private mutating func takeMembers(from start: Int) -> [JSONValue] {
        if start == 0 {
            defer { values = [] }
            return values
        }
        let members = Array(values[start...])
        values.removeSubrange(start...)
        return members
    }

    /// Moves the innermost object's members off the shared stacks into a `JSONObject`.
    private mutating func closeObject(_ container: OpenContainer) -> JSONObject {
        let object = JSONObject(
            uniqueKeys: keys[container.keyStart...],
            values: values[container.valueStart...])
        keys.removeSubrange(container.keyStart...)
        values.removeSubrange(container.valueStart...)
        stack.removeLast()
        return object
    }

    /// Reads `"key" :` for the innermost object and rejects a key it already has: with
    /// duplicates, two parsers could disagree on which value counts, which is a classic
    /// smuggling trick.
    private mutating func parseKey() throws(JSONError) {
        guard position < input.count else { throw endOfInput() }
        guard input[position] == ASCII.quote else { throw unexpectedByte() }
        let keyOffset = position
        let key = try parseString()
        let top = stack.count - 1
        let keyStart = stack[top].keyStart
        let memberCount = keys.count - keyStart
        let isDuplicate: Bool
        if memberCount < Self.linearKeySearchLimit {
            isDuplicate = keys[keyStart...].contains(key)
        } else {
            if stack[top].keySet.isEmpty {
                stack[top].keySet = Set(keys[keyStart...])
            }
            isDuplicate = !stack[top].keySet.insert(key).inserted
        }
        if isDuplicate {
            let shown = String(decoding: JSONValue.string(key).serialized(), as: UTF8.self)
            throw JSONError(message: "duplicate key \(shown)", offset: keyOffset)
        }
        keys.append(key)
        stack[top].memberKeyStart = keyOffset
        stack[top].memberKeyEnd = position
        skipWhitespace()
        guard position < input.count else { throw endOfInput() }
        guard input[position] == ASCII.colon else { throw unexpectedByte() }
        position += 1
    }

    private mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case ASCII.space, ASCII.newline, ASCII.carriageReturn, ASCII.tab:
                position += 1
            default:
                return
            }
        }
    }

    // MARK: - Scalars

    private mutating func parseScalar() throws(JSONError) -> JSONValue {
        switch input[position] {
        case ASCII.quote:
            return .string(try parseString())
        case ASCII.minus, ASCII.zero...ASCII.nine:
            return try parseNumber()
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        default:
            throw unexpectedByte()
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        for offset in 0..<count {
            guard position < input.count else { throw endOfInput() }
            guard input[position] == start[offset] else { throw unexpectedByte() }
            position += 1
        }
    }

    /// Validates the RFC 8259 number grammar by hand (so `+1`, `.5`, `1.`, `01`, `NaN`
    /// never reach the conversion), then keeps integers exact when they fit in `Int64`.
    ///
    /// Digits are accumulated while scanning. Integers come straight from that, and
    /// most other numbers take Clinger's fast path (an exact mantissa times an exact
    /// power of ten is correctly rounded); only the rest go through the standard
    /// library's text conversion.
    private mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = position
        let negative = input[position] == ASCII.minus
        if negative { position += 1 }
        guard position < input.count, isDigit(input[position]) else {
            throw expected("digit")
        }
        var mantissa: UInt64 = 0
        var mantissaDigits = 0
        if input[position] == ASCII.zero {
            position += 1
            if position < input.count, isDigit(input[position]) {
                throw JSONError(message: "leading zero in number", offset: position - 1)
            }
        } else {
            accumulateDigits(into: &mantissa, count: &mantissaDigits)
        }
        var isInteger = true
        var fractionDigits = 0
        if position < input.count, input[position] == ASCII.period {
            isInteger = false
            position += 1
            guard position < input.count, isDigit(input[position]) else {
                throw expected("digit after '.'")
            }
            let before = mantissaDigits
            accumulateDigits(into: &mantissa, count: &mantissaDigits)
            fractionDigits = mantissaDigits - before
        }
        var exponent = 0
        if position < input.count, input[position] == ASCII.lowerE || input[position] == ASCII.upperE {
            isInteger = false
            position += 1
            var exponentNegative = false
            if position < input.count, input[position] == ASCII.plus || input[position] == ASCII.minus {
                exponentNegative = input[position] == ASCII.minus
                position += 1
            }
            guard position < input.count, isDigit(input[position]) else {
                throw expected("digit in exponent")
            }
            while position < input.count, isDigit(input[position]) {
                // Saturate: anything this large is handled by the slow path anyway.
                if exponent < 100_000 {
                    exponent = exponent * 10 + Int(input[position] &- ASCII.zero)
                }
                position += 1
            }
            if exponentNegative { exponent = -exponent }
        }

        let mantissaIsExact = mantissaDigits <= 19
        if isInteger, mantissaIsExact {
            if !negative, mantissa <= UInt64(Int64.max) {
                return .int(Int64(mantissa))
            }
            if negative, mantissa <= UInt64(Int64.max) + 1 {
                return .int(Int64(truncatingIfNeeded: 0 &- mantissa))
            }
        }
        let decimalExponent = exponent - fractionDigits
        if mantissaIsExact, mantissa <= 1 << 53, (-22...22).contains(decimalExponent) {
            let power = Self.powersOfTen[abs(decimalExponent)]
            let magnitude = decimalExponent < 0 ? Double(mantissa) / power : Double(mantissa) * power
            return .double(negative ? -magnitude : magnitude)
        }
        let lexeme = String(decoding: UnsafeBufferPointer(rebasing: input[start..<position]), as: UTF8.self)
        guard let number = Double(lexeme), number.isFinite else {
            throw JSONError(message: "number out of range", offset: start)
        }
        return .double(number)
    }

    /// 1e0 through 1e22: the powers of ten that `Double` represents exactly.
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Consumes a run of digits, appending them to `value` (exact while `count` <= 19;
    /// callers check `count` before trusting `value`).
    private mutating func accumulateDigits(into value: inout UInt64, count: inout Int) {
        while position < input.count, isDigit(input[position]) {
            value = value &* 10 &+ UInt64(input[position] &- ASCII.zero)
            count += 1
            position += 1
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= ASCII.zero && byte <= ASCII.nine
    }

    // MARK: - Strings

    /// Reads a string starting at its opening quote. Plain runs are validated as UTF-8
    /// in place; only strings with escapes are assembled in the scratch buffer.
    private mutating func parseString() throws(JSONError) -> String {
        position += 1
        let start = position
        var segmentStart = position
        var hasEscapes = false
        while true {
            skipPlainStringBytes()
            guard position < input.count else {
                throw JSONError(message: "unterminated string", offset: input.count)
            }
            let byte = input[position]
            if byte == ASCII.quote {
                let result: String
                if hasEscapes {
                    scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[segmentStart..<position]))
                    result = String(decoding: scratch, as: UTF8.self)
                } else {
                    result = String(decoding: UnsafeBufferPointer(rebasing: input[start..<position]), as: UTF8.self)
                }
                position += 1
                return result
            } else if byte == ASCII.backslash {
                if !hasEscapes {
                    hasEscapes = true
                    scratch.removeAll(keepingCapacity: true)
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[segmentStart..<position]))
                try parseEscape()
                segmentStart = position
            } else if byte < 0x20 {
                throw JSONError(message: "control character in string", offset: position)
            } else if byte < 0x80 {
                position += 1
            } else {
                position += try utf8SequenceLength(at: position)
            }
        }
    }

    /// Skips eight bytes at a time while none of them needs attention (a quote,
    /// backslash, control character or non-ASCII byte), the common case in long strings.
    private mutating func skipPlainStringBytes() {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let raw = UnsafeRawBufferPointer(input)
        while input.count - position >= 8 {
            let word = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            // Classic SWAR tests: a byte's high bit ends up set when it is below 0x20,
            // or equals '"' or '\\' (x ^ pattern is zero), or is itself >= 0x80.
            let quotes = word ^ (ones &* UInt64(ASCII.quote))
            let backslashes = word ^ (ones &* UInt64(ASCII.backslash))
            let below = (word &- ones &* 0x20)
                | (quotes &- ones) & ~quotes
                | (backslashes &- ones) & ~backslashes
            guard (below & ~word | word) & highBits == 0 else { return }
            position += 8
        }
    }

    /// Decodes one escape starting at the backslash and appends its UTF-8 to `scratch`.
    private mutating func parseEscape() throws(JSONError) {
        let escapeStart = position
        position += 1
        guard position < input.count else {
            throw JSONError(message: "unterminated string", offset: input.count)
        }
        let letter = input[position]
        position += 1
        switch letter {
        case ASCII.quote: scratch.append(ASCII.quote)
        case ASCII.backslash: scratch.append(ASCII.backslash)
        case ASCII.slash: scratch.append(ASCII.slash)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(ASCII.newline)
        case UInt8(ascii: "r"): scratch.append(ASCII.carriageReturn)
        case UInt8(ascii: "t"): scratch.append(ASCII.tab)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard position + 1 < input.count,
                      input[position] == ASCII.backslash,
                      input[position + 1] == UInt8(ascii: "u")
                else {
                    throw JSONError(message: "lone surrogate in \\u escape", offset: escapeStart)
                }
                position += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw JSONError(message: "invalid surrogate pair in \\u escape", offset: escapeStart)
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw JSONError(message: "lone surrogate in \\u escape", offset: escapeStart)
            }
            appendUTF8(scalar)
        default:
            throw JSONError(message: "invalid escape", offset: escapeStart)
        }
    }

    private mutating func parseHex4() throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < input.count else {
                throw JSONError(message: "unterminated string", offset: input.count)
            }
            let byte = input[position]
            let digit: UInt8
            switch byte {
            case ASCII.zero...ASCII.nine: digit = byte - ASCII.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw JSONError(message: "invalid hex digit in \\u escape", offset: position)
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// The length of the well-formed UTF-8 sequence starting at `start` (a non-ASCII
    /// byte), following Unicode Table 3-7: overlong forms, surrogates and values above
    /// U+10FFFF are rejected, as is a sequence cut off by the end of input.
    private func utf8SequenceLength(at start: Int) throws(JSONError) -> Int {
        let lead = input[start]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw JSONError(message: "invalid UTF-8", offset: start)
        }
        guard start + length <= input.count, secondRange.contains(input[start + 1]) else {
            throw JSONError(message: "invalid UTF-8", offset: start)
        }
        for index in (start + 2)..<(start + length) where input[index] & 0xC0 != 0x80 {
            throw JSONError(message: "invalid UTF-8", offset: start)
        }
        return length
    }

    // MARK: - Errors

    private func endOfInput() -> JSONError {
        JSONError(message: "unexpected end of input", offset: input.count)
    }

    private func expected(_ what: String) -> JSONError {
        guard position < input.count else { return endOfInput() }
        return JSONError(message: "expected \(what)", offset: position)
    }

    /// Describes the byte at `position` readably without echoing raw bytes into logs.
    private func unexpectedByte() -> JSONError {
        guard position < input.count else { return endOfInput() }
        let byte = input[position]
        let message: String
        switch byte {
        case 0x21...0x7E:
            message = "unexpected character '\(Character(Unicode.Scalar(byte)))'"
        case 0x80...:
            if (try? utf8SequenceLength(at: position)) == nil {
                message = "invalid UTF-8"
            } else {
                message = "unexpected non-ASCII character"
            }
        default:
            message = "unexpected byte 0x\(hexByte(byte))"
        }
        return JSONError(message: message, offset: position)
    }

    private func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
