import Testing
@testable import AgentProtocol

@Suite("JSON serialization")
struct JSONSerializeTests {
    @Test("each kind of value serializes to compact text", arguments: [
        (JSONValue.null, "null"),
        (.bool(true), "true"),
        (.bool(false), "false"),
        (.int(0), "0"),
        (.int(-12), "-12"),
        (.int(Int64.max), "9223372036854775807"),
        (.int(Int64.min), "-9223372036854775808"),
        (.double(0.5), "0.5"),
        (.double(3.0), "3.0"),
        (.double(-0.0), "-0.0"),
        (.double(1e300), "1e+300"),
        (.double(1e-7), "1e-07"),
        (.string("hi"), "\"hi\""),
        (.array([]), "[]"),
        (.object(JSONObject()), "{}"),
        ([1, "a", nil, [true]], #"[1,"a",null,[true]]"#),
        (["b": 1, "a": ["c": []]], #"{"b":1,"a":{"c":[]}}"#),
    ] as [(JSONValue, String)])
    func compact(value: JSONValue, text: String) {
        #expect(value.jsonText == text)
        #expect(value.serialized() == Array(text.utf8))
        #expect(value.description == text)
    }

    @Test("non-finite doubles serialize as null", arguments: [Double.nan, .infinity, -.infinity])
    func nonFinite(number: Double) {
        #expect(JSONValue.double(number).jsonText == "null")
    }

    @Test("quote, backslash and control characters are escaped; other Unicode stays UTF-8")
    func stringEscapes() {
        let value = JSONValue.string("a\"b\\c/\u{08}\u{0C}\n\r\t\u{0}\u{1F}\u{7F}é€😀")
        #expect(value.jsonText == #""a\"b\\c/\b\f\n\r\t\u0000\u001f"# + "\u{7F}é€😀\"")
    }

    @Test("object keys are escaped like strings")
    func keyEscapes() {
        let value: JSONValue = ["a\"b\n": 1]
        #expect(value.jsonText == #"{"a\"b\n":1}"#)
    }

    @Test("every kind of value survives a round trip", arguments: [
        JSONValue.null, true, false, 0, -1, .int(Int64.max), .int(Int64.min),
        0.5, -2.25, 3.0, 1e300, .double(.leastNonzeroMagnitude), 0.1, 1e16, 123456.789,
        "", "text", "\u{0}\u{1F}\"\\/é😀\u{10FFFF}",
        [], [:], [1, [2, [3, [:]]]],
        ["z": 1, "a": [true, nil], "m": ["nested": "x"]],
    ] as [JSONValue])
    func roundTrip(value: JSONValue) throws {
        #expect(try JSONValue.parse(value.serialized()) == value)
        #expect(try JSONValue.parse(value.serialized(pretty: true)) == value)
    }

    @Test("key order is preserved from parse to serialization")
    func keyOrderRoundTrip() throws {
        let text = #"{"zeta":1,"alpha":{"y":2,"b":3,"x":4},"mid":[{"q":1,"p":2}]}"#
        let value = try JSONValue.parse(text)
        #expect(value.objectValue?.keys == ["zeta", "alpha", "mid"])
        #expect(value["alpha"]?.objectValue?.keys == ["y", "b", "x"])
        #expect(value.jsonText == text)
    }

    @Test("pretty output matches Python's json.dumps(indent=2)")
    func pretty() {
        let value: JSONValue = [
            "name": "x",
            "list": [1, 2.5, nil],
            "empty": [],
            "obj": [:],
            "nested": ["k": true, "s": "é"],
        ]
        let expected = """
            {
              "name": "x",
              "list": [
                1,
                2.5,
                null
              ],
              "empty": [],
              "obj": {},
              "nested": {
                "k": true,
                "s": "é"
              }
            }
            """
        #expect(String(decoding: value.serialized(pretty: true), as: UTF8.self) == expected)
    }

    @Test("pretty output of scalars and empty containers has no extra whitespace",
          arguments: [(JSONValue.int(1), "1"), ([], "[]"), ([:], "{}"), ("s", "\"s\"")] as [(JSONValue, String)])
    func prettyScalars(value: JSONValue, text: String) {
        #expect(value.serialized(pretty: true) == Array(text.utf8))
    }

    @Test("serialized(pretty: false) is the compact form")
    func prettyFalse() {
        let value: JSONValue = ["a": [1, 2]]
        #expect(value.serialized(pretty: false) == value.serialized())
    }
}
