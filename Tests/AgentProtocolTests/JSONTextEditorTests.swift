import AgentProtocol
import Testing

/// A small deterministic generator (SplitMix64), so every run checks the same documents
/// and a failure names a seed that reproduces it.
private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Writes random JSON text with the spellings a serializer of ours never produces:
/// numbers such as `0.10`, `1e-7`, `-0`, `1E+2`; escapes such as `\u00e9`, `\/` and
/// surrogate pairs; every kind of whitespace between tokens; minified or spread out.
private struct DocumentWriter {
    var random: SplitMix64
    static let numbers = ["0", "-0", "0.10", "1e-7", "1E+2", "12345678901234567890", "-3.25e10", "1795003600123", "2.50"]
    static let strings = [#""a""#, #""caf\u00e9""#, #""\/path\/x""#, #""tab\there""#, #""\ud83d\ude00""#, #""""#, #""plain""#]
    static let spaces = ["", " ", "\n  ", "\t", "\r\n", "\n\n    "]

    mutating func space() -> String { random.pick(Self.spaces) }

    mutating func value(depth: Int) -> String {
        switch depth >= 3 ? random.below(4) : random.below(7) {
        case 0: return random.pick(Self.numbers)
        case 1: return random.pick(Self.strings)
        case 2: return random.pick(["true", "false", "null"])
        case 3: return random.pick(Self.numbers)
        case 4, 5: return object(depth: depth + 1)
        default:
            let count = random.below(4)
            let items = (0..<count).map { _ in space() + value(depth: depth + 1) + space() }
            return "[" + space() + items.joined(separator: ",") + "]"
        }
    }

    mutating func object(depth: Int) -> String {
        let count = random.below(5)
        let keys = ["a", "b", "k\\u00e9y", "mcpOAuth", "x/y", "n"].prefix(count)
        let members = keys.map { key in space() + "\"\(key)\"" + space() + ":" + space() + value(depth: depth) + space() }
        return "{" + members.joined(separator: ",") + (members.isEmpty ? space() : "") + "}"
    }
}

@Suite("Editing JSON in place")
struct JSONTextEditorTests {
    /// Every object's path in a value (through object members only).
    static func objectPaths(_ value: JSONValue, _ path: [String] = []) -> [[String]] {
        guard let object = value.objectValue else { return [] }
        return [path] + object.flatMap { objectPaths($0.value, path + [$0.key]) }
    }

    /// `value` with member `key` of the object at `path` set (nil: removed).
    static func setting(_ value: JSONValue, _ path: [String], _ key: String, _ newValue: JSONValue?) -> JSONValue {
        guard var object = value.objectValue else { return value }
        if let first = path.first {
            object[first] = setting(object[first] ?? .null, Array(path.dropFirst()), key, newValue)
        } else {
            object[key] = newValue
        }
        return .object(object)
    }

    /// How many leading and trailing bytes two texts share, not overlapping.
    static func sharedEnds(_ a: [UInt8], _ b: [UInt8]) -> (prefix: Int, suffix: Int) {
        var prefix = 0
        while prefix < min(a.count, b.count), a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < min(a.count, b.count) - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
        return (prefix, suffix)
    }

    static let newValues: [JSONValue] = [
        .string("sk-ant-oat01-new"), .int(1_795_007_200_000), .array([.string("user:inference"), .string("user:profile")]),
        .array([.string("only")]), .null, .bool(true), .string("quote \" and \\ and é"),
    ]

    @Test("set and remove change one member's bytes only, and the result parses to the expected value", arguments: 0..<300)
    func property(seed: Int) throws {
        var writer = DocumentWriter(random: SplitMix64(state: UInt64(seed) &* 7919 &+ 1))
        let text = writer.space() + writer.object(depth: 0) + writer.space()
        let original = Array(text.utf8)
        let parsed = try JSONValue.parse(original)
        var random = SplitMix64(state: UInt64(seed))
        let path = random.pick(Self.objectPaths(parsed))
        let existing = path.reduce(parsed) { $0.objectValue?[$1] ?? .null }.objectValue?.keys ?? []
        let key = random.below(3) == 0 || existing.isEmpty ? "new\(seed)" : random.pick(existing)
        var editor = try JSONTextEditor(original)

        if random.below(4) == 0 {
            try editor.remove(key, in: path)
            #expect(try JSONValue.parse(editor.bytes) == Self.setting(parsed, path, key, nil), "seed \(seed): \(text)")
            // A removal takes out one stretch and adds nothing.
            let (prefix, suffix) = Self.sharedEnds(original, editor.bytes)
            #expect(prefix + suffix >= editor.bytes.count, "seed \(seed): bytes outside the member changed")
        } else {
            let newValue = random.pick(Self.newValues)
            let old = path.reduce(parsed) { $0.objectValue?[$1] ?? .null }.objectValue?[key]
            try editor.set(key, in: path, to: newValue)
            #expect(try JSONValue.parse(editor.bytes) == Self.setting(parsed, path, key, newValue), "seed \(seed): \(text)")
            let (prefix, suffix) = Self.sharedEnds(original, editor.bytes)
            if old == newValue {
                #expect(editor.bytes == original, "seed \(seed): an unchanged value rewrote the file")
            } else if let old {
                // Only the old value's bytes may differ.
                _ = old
                let spelled = try #require(Self.spelledLength(of: key, in: path, original))
                #expect(prefix + suffix >= original.count - spelled, "seed \(seed): bytes outside the value changed")
            } else {
                // An insertion keeps every original byte, in one piece before and after.
                #expect(prefix + suffix >= original.count, "seed \(seed): an insertion changed existing bytes")
            }
        }
        #expect(editor.value == (try JSONValue.parse(editor.bytes)))
    }

    /// The length of a member's value as spelled in `bytes`.
    static func spelledLength(of key: String, in path: [String], _ bytes: [UInt8]) -> Int? {
        guard let (_, spans) = try? JSONValue.parseWithSpans(bytes),
              let member = spans.objects[path]?.members.first(where: { $0.key == key }) else { return nil }
        return member.valueEnd - member.valueStart
    }

    @Test("numbers, escapes and layout outside the edited value survive exactly")
    func exactExample() throws {
        let text = #"{"keep":{"n":0.10,"e":1e-7,"s":"caf\u00e9\/"},  "ours" :  "old" ,"tail":[1E+2]}"#
        var editor = try JSONTextEditor(Array(text.utf8))
        try editor.set("ours", in: [], to: .string("new"))
        #expect(String(decoding: editor.bytes, as: UTF8.self) == #"{"keep":{"n":0.10,"e":1e-7,"s":"caf\u00e9\/"},  "ours" :  "new" ,"tail":[1E+2]}"#)
        try editor.set("added", in: ["keep"], to: .int(5))
        #expect(String(decoding: editor.bytes, as: UTF8.self) == #"{"keep":{"n":0.10,"e":1e-7,"s":"caf\u00e9\/","added":5},  "ours" :  "new" ,"tail":[1E+2]}"#)
        try editor.remove("keep", in: [])
        #expect(String(decoding: editor.bytes, as: UTF8.self) == #"{"ours" :  "new" ,"tail":[1E+2]}"#)
        try editor.remove("tail", in: [])
        try editor.remove("ours", in: [])
        #expect(String(decoding: editor.bytes, as: UTF8.self) == "{}")
        try editor.set("first", in: [], to: .string("x"))
        #expect(String(decoding: editor.bytes, as: UTF8.self) == #"{"first":"x"}"#)
    }

    @Test("an edit where there is no object is refused and changes nothing")
    func noObject() throws {
        var editor = try JSONTextEditor(Array(#"{"a": [1, {"b": 2}], "s": "x"}"#.utf8))
        #expect(throws: JSONError.self) { try editor.set("k", in: ["s"], to: .null) }
        #expect(throws: JSONError.self) { try editor.set("k", in: ["missing"], to: .null) }
        #expect(throws: JSONError.self) { try editor.remove("b", in: ["a"]) }
        #expect(String(decoding: editor.bytes, as: UTF8.self) == #"{"a": [1, {"b": 2}], "s": "x"}"#)
    }
}
