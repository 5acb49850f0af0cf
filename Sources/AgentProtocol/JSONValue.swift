/// A JSON document held as plain Swift values.
///
/// The agent speaks JSON over a socket and rewrites JSON credential files, but this
/// module must stay free of Foundation so it can be linked into the tiny, fast-starting
/// CLI. So JSON gets its own small value type instead of `JSONSerialization`/`Codable`.
///
/// Integers and other numbers are kept apart (`int` vs `double`) so that values such as
/// Unix timestamps survive a round trip exactly instead of passing through `Double`.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent whose value fits in `Int64`.
    case int(Int64)
    /// Every other number (with a fraction, an exponent, or too large for `Int64`).
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

// MARK: - Typed accessors

extension JSONValue {
    /// The string, or nil if this is not a string. Lets callers write
    /// `guard let token = json["access_token"]?.stringValue` without a switch.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer, or nil. A `double` that holds an integral value within `Int64`
    /// also counts, because peers are free to write `3600.0` where we expect seconds.
    public var intValue: Int64? {
        switch self {
        case .int(let value):
            return value
        case .double(let value):
            // Range check first (NaN fails it too), then truncate and compare. This
            // avoids `Int64(exactly:)`, whose rounding calls need libm, which not every
            // product linking this module brings in.
            guard value >= -9_223_372_036_854_775_808.0, value < 9_223_372_036_854_775_808.0 else {
                return nil
            }
            let truncated = Int64(value)
            return Double(truncated) == value ? truncated : nil
        default:
            return nil
        }
    }

    /// The number as a `Double`, whether it was written as an integer or not.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The boolean, or nil if this is not `true`/`false`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements, or nil if this is not an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members, or nil if this is not an object.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// True only for JSON `null` (a missing member is `nil`, not `.null`).
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The member named `key` when this is an object; nil when the member is missing
    /// or this is not an object, so lookups chain without intermediate checks.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// A short name of the type, for error messages such as
    /// "expires_at: expected integer, got string".
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

// MARK: - Literals

// Literal conformances make request construction and test expectations read like JSON.

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) {
        self = .int(value)
    }
}

extension JSONValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) {
        self = .double(value)
    }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension JSONValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: JSONValue...) {
        self = .array(elements)
    }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// Members keep the literal's order; a repeated key keeps its first position and
    /// the last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
}

extension JSONValue: ExpressibleByNilLiteral {
    /// `nil` in a `JSONValue` context means JSON `null`. (In a `JSONValue?` context,
    /// such as assigning through `JSONObject`'s subscript, it still means "absent".)
    public init(nilLiteral: ()) {
        self = .null
    }
}

// MARK: - Text

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text, so values print readably in logs and test failures.
    public var description: String { jsonText }
}
