import Testing
@testable import AgentProtocol

@Suite("JSON values and objects")
struct JSONValueTests {
    @Test("literals build the matching cases")
    func literals() {
        let string: JSONValue = "s"
        let integer: JSONValue = 5
        let double: JSONValue = 2.5
        let boolean: JSONValue = true
        let null: JSONValue = nil
        let array: JSONValue = [1, "a"]
        let object: JSONValue = ["k": 1]
        #expect(string == .string("s"))
        #expect(integer == .int(5))
        #expect(double == .double(2.5))
        #expect(boolean == .bool(true))
        #expect(null == .null)
        #expect(array == .array([.int(1), .string("a")]))
        #expect(object == .object(JSONObject([("k", .int(1))])))
    }

    @Test("accessors return the payload for the matching type")
    func accessorsMatch() {
        #expect(JSONValue.string("s").stringValue == "s")
        #expect(JSONValue.int(7).intValue == 7)
        #expect(JSONValue.bool(false).boolValue == false)
        #expect(JSONValue.array([1]).arrayValue == [1])
        #expect(JSONValue.object(["a": 1]).objectValue == ["a": 1])
        #expect(JSONValue.null.isNull)
    }

    @Test("accessors return nil on a type mismatch")
    func accessorsMismatch() {
        let value: JSONValue = "7"
        #expect(value.intValue == nil)
        #expect(value.doubleValue == nil)
        #expect(value.boolValue == nil)
        #expect(value.arrayValue == nil)
        #expect(value.objectValue == nil)
        #expect(!value.isNull)
        #expect(JSONValue.int(1).stringValue == nil)
        #expect(JSONValue.int(1).boolValue == nil)
        #expect(JSONValue.bool(true).intValue == nil)
        #expect(JSONValue.null.stringValue == nil)
    }

    @Test("intValue accepts integral doubles within Int64 only", arguments: [
        (JSONValue.double(3.0), Int64?.some(3)),
        (.double(-0.0), 0),
        (.double(-9_223_372_036_854_775_808.0), Int64.min),
        (.double(3.5), nil),
        (.double(9_223_372_036_854_775_808.0), nil),
        (.double(1e300), nil),
        (.double(.nan), nil),
        (.double(.infinity), nil),
    ])
    func intFromDouble(value: JSONValue, expected: Int64?) {
        #expect(value.intValue == expected)
    }

    @Test("doubleValue reads both integers and doubles")
    func doubleValue() {
        #expect(JSONValue.int(2).doubleValue == 2.0)
        #expect(JSONValue.double(2.5).doubleValue == 2.5)
    }

    @Test("subscript on a value reads object members and is nil otherwise")
    func valueSubscript() {
        let value: JSONValue = ["a": ["b": nil]]
        #expect(value["a"]?["b"] == .null)
        #expect(value["a"]?["c"] == nil)
        #expect(value["missing"] == nil)
        #expect(JSONValue.array([1])["a"] == nil)
        #expect(JSONValue.string("a")["a"] == nil)
    }

    @Test("typeName names each type", arguments: [
        (JSONValue.null, "null"), (true, "boolean"), (1, "integer"), (1.5, "number"),
        ("s", "string"), ([], "array"), ([:], "object"),
    ] as [(JSONValue, String)])
    func typeNames(value: JSONValue, name: String) {
        #expect(value.typeName == name)
    }

    @Test("integers and doubles are different values even when numerically equal")
    func intIsNotDouble() {
        #expect(JSONValue.int(1) != JSONValue.double(1.0))
    }

    @Test("setting a new key appends it")
    func objectAppend() {
        var object: JSONObject = ["b": 1]
        object["a"] = 2
        #expect(object.keys == ["b", "a"])
        #expect(object.count == 2)
        #expect(object["a"] == 2)
    }

    @Test("setting an existing key replaces its value in place")
    func objectReplace() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = "two"
        #expect(object.keys == ["a", "b", "c"])
        #expect(object["b"] == "two")
    }

    @Test("setting nil removes the key and later keys stay reachable")
    func objectRemove() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3, "d": 4]
        object["b"] = nil
        #expect(object.keys == ["a", "c", "d"])
        #expect(object["b"] == nil)
        #expect(object["c"] == 3)
        #expect(object["d"] == 4)
        object["d"] = 5
        #expect(object.keys == ["a", "c", "d"])
        object["missing"] = nil
        #expect(object.count == 3)
    }

    @Test("setting .null stores a null member rather than removing")
    func objectNullMember() {
        var object: JSONObject = ["a": 1]
        object["a"] = .null
        #expect(object.count == 1)
        #expect(object["a"] == .null)
        #expect(object.contains(key: "a"))
    }

    @Test("a repeated key in the initializer keeps its first position and last value")
    func objectInitDuplicates() {
        let object = JSONObject([("a", 1), ("b", 2), ("a", 3)])
        #expect(object.keys == ["a", "b"])
        #expect(object["a"] == 3)
    }

    @Test("iteration yields members in insertion order")
    func objectIteration() {
        let object: JSONObject = ["z": 1, "y": 2, "x": 3]
        #expect(object.map(\.key) == ["z", "y", "x"])
        #expect(object.map(\.value) == [1, 2, 3])
    }

    @Test("empty object reports empty")
    func objectEmpty() {
        #expect(JSONObject().isEmpty)
        #expect(JSONObject().count == 0)
        #expect(JSONObject().keys.isEmpty)
        #expect(!(["a": 1] as JSONObject).isEmpty)
    }

    @Test("large objects keep order, lookups and removal consistent", arguments: [5, 13, 40])
    func largeObject(size: Int) {
        var object = JSONObject()
        for number in 0..<size {
            object["k\(number)"] = .int(Int64(number))
        }
        #expect(object.count == size)
        #expect(object["k\(size - 1)"] == .int(Int64(size - 1)))
        object["k0"] = nil
        object["k\(size / 2)"] = "middle"
        #expect(object.count == size - 1)
        #expect(object.keys.first == "k1")
        #expect(object["k\(size / 2)"] == "middle")
        #expect(object["k\(size - 1)"] == .int(Int64(size - 1)))
        #expect(object["k0"] == nil)
        for number in 1..<size where number != size / 2 {
            #expect(object["k\(number)"] == .int(Int64(number)))
        }
        object["k0"] = true
        #expect(object.keys.last == "k0")
        #expect(object.keys == Array(object.map(\.key)))
    }

    @Test("object equality ignores member order but not content")
    func objectEquality() {
        let first: JSONObject = ["a": 1, "b": 2]
        #expect(first == ["b": 2, "a": 1])
        #expect(first != ["a": 1, "b": 3])
        #expect(first != ["a": 1])
        #expect(first != ["a": 1, "c": 2])
    }
}
