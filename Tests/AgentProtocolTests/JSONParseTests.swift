import Testing
@testable import AgentProtocol

/// The error from parsing `bytes`, or nil if it parsed.
func parseFailure(_ bytes: [UInt8], maxDepth: Int = 64) -> JSONError? {
    do throws(JSONError) {
        _ = try JSONValue.parse(bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

func parseFailure(_ text: String, maxDepth: Int = 64) -> JSONError? {
    parseFailure(Array(text.utf8), maxDepth: maxDepth)
}

@Suite("JSON parsing")
struct JSONParseTests {
    @Test("scalars parse to the matching case", arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("0", .int(0)),
        ("-7", .int(-7)),
        ("1.5", .double(1.5)),
        ("\"hi\"", .string("hi")),
        ("\"\"", .string("")),
        ("[]", .array([])),
        ("{}", .object(JSONObject())),
    ])
    func scalars(text: String, expected: JSONValue) throws {
        #expect(try JSONValue.parse(text) == expected)
    }

    @Test("whitespace around and between tokens is allowed")
    func whitespace() throws {
        let value = try JSONValue.parse(" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" :null }\n ")
        #expect(value == ["a": [1, 2], "b": nil])
    }

    @Test("nested containers keep their structure")
    func nested() throws {
        let value = try JSONValue.parse(#"{"a":[1,{"b":[[],{}]},"c"],"d":{"e":{"f":false}}}"#)
        let expected: JSONValue = [
            "a": [1, ["b": [[], [:]]], "c"],
            "d": ["e": ["f": false]],
        ]
        #expect(value == expected)
    }

    @Test("numbers without fraction or exponent that fit Int64 are integers", arguments: [
        ("0", Int64(0)),
        ("-0", Int64(0)),
        ("42", Int64(42)),
        ("-42", Int64(-42)),
        ("9223372036854775807", Int64.max),
        ("-9223372036854775808", Int64.min),
    ])
    func integers(text: String, expected: Int64) throws {
        #expect(try JSONValue.parse(text) == .int(expected))
    }

    @Test("numbers with fraction, exponent or beyond Int64 are doubles", arguments: [
        ("1.0", 1.0),
        ("-0.5", -0.5),
        ("1e2", 100.0),
        ("1E2", 100.0),
        ("1e+2", 100.0),
        ("25e-2", 0.25),
        ("0.1", 0.1),
        ("9223372036854775808", 9_223_372_036_854_775_808.0),
        ("-9223372036854775809", -9_223_372_036_854_775_809.0),
        ("123456789012345678901234567890", 1.2345678901234568e29),
        ("1e-400", 0.0),
    ])
    func doubles(text: String, expected: Double) throws {
        #expect(try JSONValue.parse(text) == .double(expected))
    }

    @Test("doubles are correctly rounded, matching the standard library's conversion", arguments: [
        "0.1", "0.2", "0.3", "1.7976931348623157e308", "2.2250738585072014e-308", "5e-324",
        "4285.714285714285", "9007199254740993.0", "9007199254740993e0", "1e22", "1e23",
        "123456789012345678.5", "0.000000000000000000001", "1234567890123456789e-5",
        "-2.5e-3", "3.14159265358979323846264338327950288", "1e-22", "1e-23", "8.5e-22",
        "12345678901234567890e-20", "0.0000001", "100000000000000000000000e-10",
    ])
    func correctlyRounded(text: String) throws {
        let expected = try #require(Double(text))
        #expect(try JSONValue.parse(text) == .double(expected))
    }

    @Test("negative zero keeps its sign as a double")
    func negativeZero() throws {
        let value = try JSONValue.parse("-0.0")
        #expect(value.doubleValue?.sign == .minus)
    }

    @Test("every escape sequence decodes, including surrogate pairs")
    func escapes() throws {
        let text = #""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\uD83D\uDE00\u0000""#
        #expect(try JSONValue.parse(text) == .string("\"\\/\u{08}\u{0C}\n\r\tAé€😀\u{0}"))
    }

    @Test("escapes mixed with plain and multibyte text keep every part")
    func escapesAmongText() throws {
        let value = try JSONValue.parse(#"["héllo\nwörld 😀 \"q\"", "plain"]"#)
        #expect(value == ["héllo\nwörld 😀 \"q\"", "plain"])
    }

    @Test("special bytes are noticed at every position of a long string", arguments: 0..<20)
    func specialBytesAtEveryPosition(prefixLength: Int) throws {
        let prefix = [UInt8](repeating: UInt8(ascii: "a"), count: prefixLength)
        let suffix = [UInt8](repeating: UInt8(ascii: "b"), count: 11)
        func document(_ middle: [UInt8]) -> [UInt8] {
            [UInt8(ascii: "\"")] + prefix + middle + suffix + [UInt8(ascii: "\"")]
        }
        func text(_ middle: String) -> String {
            String(repeating: "a", count: prefixLength) + middle + String(repeating: "b", count: 11)
        }
        #expect(parseFailure(document([0x01])) == JSONError(message: "control character in string", offset: 1 + prefixLength))
        #expect(parseFailure(document([0x1F])) == JSONError(message: "control character in string", offset: 1 + prefixLength))
        #expect(parseFailure(document([0xFF])) == JSONError(message: "invalid UTF-8", offset: 1 + prefixLength))
        #expect(try JSONValue.parse(document(Array(#"\n"#.utf8))) == .string(text("\n")))
        #expect(try JSONValue.parse(document([0xC3, 0xA9])) == .string(text("é")))
        #expect(try JSONValue.parse(document([0x20, 0x7F, 0x21])) == .string(text(" \u{7F}!")))
        let early = [UInt8(ascii: "\"")] + prefix + [UInt8(ascii: "\""), UInt8(ascii: ",")]
        #expect(parseFailure(early) == JSONError(message: "unexpected character ','", offset: 2 + prefixLength))
    }

    @Test("valid multibyte UTF-8 of every length is accepted")
    func validUTF8() throws {
        let bytes: [UInt8] = [0x22, 0x41, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80,
                              0xF4, 0x8F, 0xBF, 0xBF, 0x22]
        #expect(try JSONValue.parse(bytes) == .string("Aé€😀\u{10FFFF}"))
    }

    @Test("malformed documents are rejected with a reason", arguments: [
        ("", "unexpected end of input"),
        ("   ", "unexpected end of input"),
        ("[1,]", "unexpected character ']'"),
        (#"{"a":1,}"#, "unexpected character '}'"),
        ("[1,,2]", "unexpected character ','"),
        ("[,1]", "unexpected character ','"),
        ("[1 2]", "unexpected character '2'"),
        ("01", "leading zero in number"),
        ("-01", "leading zero in number"),
        ("00", "leading zero in number"),
        ("+1", "unexpected character '+'"),
        (".5", "unexpected character '.'"),
        ("1.", "unexpected end of input"),
        ("[1.]", "expected digit after '.'"),
        ("1.e5", "expected digit after '.'"),
        ("1e", "unexpected end of input"),
        ("[1e]", "expected digit in exponent"),
        ("[1e+]", "expected digit in exponent"),
        ("-", "unexpected end of input"),
        ("-a", "expected digit"),
        ("0x10", "unexpected character 'x'"),
        ("NaN", "unexpected character 'N'"),
        ("Infinity", "unexpected character 'I'"),
        ("-Infinity", "expected digit"),
        ("1e400", "number out of range"),
        ("-1e400", "number out of range"),
        ("tru", "unexpected end of input"),
        ("trux", "unexpected character 'x'"),
        ("True", "unexpected character 'T'"),
        ("nul", "unexpected end of input"),
        ("null x", "unexpected character 'x'"),
        ("1 2", "unexpected character '2'"),
        ("{} {}", "unexpected character '{'"),
        ("{a:1}", "unexpected character 'a'"),
        (#"{"a" 1}"#, "unexpected character '1'"),
        (#"{"a":}"#, "unexpected character '}'"),
        (#"{"a":1 "b":2}"#, "unexpected character '\"'"),
        ("{1:2}", "unexpected character '1'"),
        ("[", "unexpected end of input"),
        ("{", "unexpected end of input"),
        ("]", "unexpected character ']'"),
        ("}", "unexpected character '}'"),
        ("[1", "unexpected end of input"),
        (#"{"a":1"#, "unexpected end of input"),
        (#"{"a""#, "unexpected end of input"),
        ("[1}", "unexpected character '}'"),
        (#"{"a":1]"#, "unexpected character ']'"),
        ("'a'", "unexpected character '''"),
        ("/* c */ 1", "unexpected character '/'"),
        ("\"abc", "unterminated string"),
        ("\"abc\\", "unterminated string"),
        ("\"a\tb\"", "control character in string"),
        ("\"a\nb\"", "control character in string"),
        ("\"\u{1F}\"", "control character in string"),
        (#""\x""#, "invalid escape"),
        (#""\U0041""#, "invalid escape"),
        (#""\u12""#, "invalid hex digit in \\u escape"),
        (#""\u12G4""#, "invalid hex digit in \\u escape"),
        (#""\uD800""#, "lone surrogate in \\u escape"),
        (#""\uD800x""#, "lone surrogate in \\u escape"),
        (#""\uD800\n""#, "lone surrogate in \\u escape"),
        (#""\uDC00""#, "lone surrogate in \\u escape"),
        (#""\uDFFF\uDC00""#, "lone surrogate in \\u escape"),
        (#""\uD800\u0041""#, "invalid surrogate pair in \\u escape"),
        (#""\uD800\uD800""#, "invalid surrogate pair in \\u escape"),
        ("\u{FEFF}1", "unexpected non-ASCII character"),
        ("\u{0}", "unexpected byte 0x00"),
    ])
    func malformed(text: String, message: String) {
        let error = parseFailure(text)
        #expect(error?.message == message)
    }

    @Test("errors report the byte offset of the problem", arguments: [
        ("[1,]", 3),
        ("01", 0),
        ("  -01", 3),
        ("[1.]", 3),
        ("\"abc", 4),
        (#"["a\qb"]"#, 3),
        (#"["\uD800"]"#, 2),
        ("[1] x", 4),
        ("", 0),
    ])
    func offsets(text: String, offset: Int) {
        #expect(parseFailure(text)?.offset == offset)
    }

    @Test("error description names the message and the offset")
    func errorDescription() {
        #expect(parseFailure("[1,]")?.description == "unexpected character ']' at byte 3")
    }

    @Test("duplicate keys in one object are rejected, naming the key")
    func duplicateKeys() {
        let error = parseFailure(#"{"a":1,"b":2,"a":3}"#)
        #expect(error == JSONError(message: "duplicate key \"a\"", offset: 13))
    }

    @Test("keys that differ only through escapes are still duplicates")
    func duplicateKeysThroughEscapes() {
        #expect(parseFailure(#"{"é":1,"\u00e9":2}"#)?.message == "duplicate key \"é\"")
    }

    @Test("a duplicate key's name is escaped in the message")
    func duplicateKeyEscaped() {
        #expect(parseFailure(#"{"a\n":1,"a\n":2}"#)?.message == #"duplicate key "a\n""#)
    }

    @Test("duplicates are found in objects with many members, wherever they occur", arguments: [0, 11, 12, 13, 99])
    func duplicateInLargeObject(duplicateOf: Int) {
        var members = (0..<100).map { "\"k\($0)\":\($0)" }
        members.append("\"k\(duplicateOf)\":0")
        let text = "{" + members.joined(separator: ",") + "}"
        #expect(parseFailure(text)?.message == "duplicate key \"k\(duplicateOf)\"")
    }

    @Test("objects with many distinct members parse in order")
    func largeObject() throws {
        let members = (0..<100).map { "\"k\($0)\":\($0)" }
        let value = try JSONValue.parse("{" + members.joined(separator: ",") + "}")
        #expect(value.objectValue?.keys == (0..<100).map { "k\($0)" })
        #expect(value["k57"] == 57)
    }

    @Test("the same key in different objects is fine")
    func sameKeyInSiblingObjects() throws {
        let value = try JSONValue.parse(#"[{"a":1},{"a":2,"b":{"a":3}}]"#)
        #expect(value == [["a": 1], ["a": 2, "b": ["a": 3]]])
    }

    @Test("nesting up to maxDepth is accepted")
    func depthAtLimit() throws {
        let text = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        var value = try JSONValue.parse(text)
        var depth = 0
        while case .array(let elements) = value {
            depth += 1
            value = elements.first ?? .null
        }
        #expect(depth == 64)
    }

    @Test("nesting beyond maxDepth is an error at the offending bracket")
    func depthBeyondLimit() {
        let text = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(parseFailure(text) == JSONError(message: "nesting deeper than 64", offset: 64))
    }

    @Test("objects count toward the depth like arrays")
    func depthWithObjects() {
        #expect(parseFailure(#"{"a":[{"b":[]}]}"#, maxDepth: 3)?.message == "nesting deeper than 3")
        #expect(parseFailure(#"{"a":[{"b":1}]}"#, maxDepth: 3) == nil)
        #expect(parseFailure("{}", maxDepth: 0)?.message == "nesting deeper than 0")
        #expect(parseFailure("1", maxDepth: 0) == nil)
    }

    @Test("100000 opening brackets give an error, not a crash")
    func hostileDepth() {
        let brackets = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        #expect(parseFailure(brackets)?.message == "nesting deeper than 64")
        let braces = Array(String(repeating: #"{"a":"#, count: 100_000).utf8)
        #expect(parseFailure(braces)?.message == "nesting deeper than 64")
    }

    @Test("invalid UTF-8 is rejected wherever it appears", arguments: [
        ([0x22, 0xFF, 0x22], 1),                    // never valid in UTF-8
        ([0x22, 0xC0, 0xAF, 0x22], 1),              // overlong '/'
        ([0x22, 0xE0, 0x80, 0xAF, 0x22], 1),        // overlong, 3 bytes
        ([0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22], 1),  // overlong, 4 bytes
        ([0x22, 0xE2, 0x82, 0x22], 1),              // truncated before the quote
        ([0x22, 0x61, 0xE2, 0x82], 2),              // truncated by end of input
        ([0x22, 0xC3], 1),                          // lead byte at end of input
        ([0x22, 0x80, 0x22], 1),                    // lone continuation byte
        ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),        // encoded surrogate U+D800
        ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1),  // above U+10FFFF
        ([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], 1),  // lead byte beyond range
        ([0xFF], 0),                                // outside a string
        ([0x5B, 0x31, 0x2C, 0xC0, 0xAF, 0x5D], 3),  // as an array element
    ] as [([UInt8], Int)])
    func invalidUTF8(bytes: [UInt8], offset: Int) {
        #expect(parseFailure(bytes) == JSONError(message: "invalid UTF-8", offset: offset))
    }

    @Test("parsing from String and from bytes agree")
    func stringAndBytes() throws {
        let text = #"{"k":["v",1,2.5,true,null]}"#
        #expect(try JSONValue.parse(text) == JSONValue.parse(Array(text.utf8)))
    }

    @Test("a large document near the frame limit parses")
    func largeDocument() throws {
        var items: [JSONValue] = []
        for index in 0..<4000 {
            items.append([
                "id": .int(Int64(index)),
                "name": .string("item \(index) with some text é😀 \"quoted\"\n"),
                "score": .double(Double(index) / 7),
                "tags": ["a", "b", nil, true],
            ])
        }
        let value = JSONValue.array(items)
        let bytes = value.serialized()
        #expect(bytes.count > 200_000)
        #expect(try JSONValue.parse(bytes) == value)
    }
}
