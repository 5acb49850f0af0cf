extension JSONValue {
    /// Compact UTF-8 serialization: no whitespace, object members in their stored order.
    /// This is the wire form; being deterministic makes frames comparable byte for byte.
    public func serialized() -> [UInt8] {
        serialized(pretty: false)
    }

    /// With `pretty`, the human-facing form used for files people may read or edit:
    /// 2-space indentation and `"key": value`, matching Python's `json.dumps(indent=2)`
    /// except that non-ASCII text stays UTF-8 rather than `\u` escapes. Empty containers
    /// print as `[]` and `{}`. No trailing newline.
    public func serialized(pretty: Bool) -> [UInt8] {
        var serializer = JSONSerializer(pretty: pretty)
        serializer.write(self, level: 0)
        return serializer.output
    }

    /// The compact serialization as a `String`.
    public var jsonText: String {
        String(decoding: serialized(), as: UTF8.self)
    }
}

/// Writes JSON into a growing byte array.
///
/// Recursion is acceptable here (unlike in the parser): values we serialize were built
/// by our own code or came through the depth-limited parser.
struct JSONSerializer {
    private(set) var output: [UInt8] = []
    private let pretty: Bool

    init(pretty: Bool) {
        self.pretty = pretty
        output.reserveCapacity(256)
    }

    mutating func write(_ value: JSONValue, level: Int) {
        switch value {
        case .null:
            append("null")
        case .bool(let flag):
            append(flag ? "true" : "false")
        case .int(let number):
            output.append(contentsOf: String(number).utf8)
        case .double(let number):
            writeDouble(number)
        case .string(let text):
            writeString(text)
        case .array(let elements):
            guard !elements.isEmpty else {
                append("[]")
                return
            }
            output.append(UInt8(ascii: "["))
            for (offset, element) in elements.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                newline(level: level + 1)
                write(element, level: level + 1)
            }
            newline(level: level)
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            guard !object.isEmpty else {
                append("{}")
                return
            }
            output.append(UInt8(ascii: "{"))
            var first = true
            for (key, member) in object {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                newline(level: level + 1)
                writeString(key)
                output.append(UInt8(ascii: ":"))
                if pretty { output.append(UInt8(ascii: " ")) }
                write(member, level: level + 1)
            }
            newline(level: level)
            output.append(UInt8(ascii: "}"))
        }
    }

    private mutating func newline(level: Int) {
        guard pretty else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * level))
    }

    private mutating func append(_ text: StaticString) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Swift's shortest round-tripping description ("0.5", "3.0", "1e-07") is valid JSON
    /// for every finite value. JSON has no NaN or infinity, so those become `null`
    /// rather than producing text no peer could parse.
    private mutating func writeDouble(_ number: Double) {
        guard number.isFinite else {
            append("null")
            return
        }
        output.append(contentsOf: number.description.utf8)
    }

    /// Escapes only what JSON requires (quote, backslash, control characters) and copies
    /// unescaped runs in bulk.
    private mutating func writeString(_ text: String) {
        output.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                    continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                runStart = index + 1
                output.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
                case 0x08: output.append(UInt8(ascii: "b"))
                case 0x0C: output.append(UInt8(ascii: "f"))
                case 0x0A: output.append(UInt8(ascii: "n"))
                case 0x0D: output.append(UInt8(ascii: "r"))
                case 0x09: output.append(UInt8(ascii: "t"))
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    output.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                               hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
                }
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
        output.append(UInt8(ascii: "\""))
    }
}
