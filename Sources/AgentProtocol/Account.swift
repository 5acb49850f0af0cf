/// How a client names an account: by its stable numeric id (the control browser's
/// account/profile number) or by its name. Both are accepted wherever an account is named.
public enum AccountReference: Equatable, Hashable, Sendable, CustomStringConvertible {
    case id(UInt32)
    case name(String)

    /// Reads an account reference: an integer is an id; a string of digits is also an id
    /// (names may not be all digits, so the two never collide); any other string is a name.
    public init?(_ value: JSONValue) {
        switch value {
        case .int(let int):
            guard let id = UInt32(exactly: int) else { return nil }
            self = .id(id)
        case .string(let string):
            self.init(text: string)
        default:
            return nil
        }
    }

    public init(text: String) {
        if let id = UInt32(text), !text.isEmpty { self = .id(id) } else { self = .name(text) }
    }

    public var json: JSONValue {
        switch self {
        case .id(let id): return .int(Int64(id))
        case .name(let name): return .string(name)
        }
    }

    public var description: String {
        switch self {
        case .id(let id): return "#\(id)"
        case .name(let name): return name
        }
    }
}

extension JSONObject {
    /// An optional account reference field (`"account"`: string name or integer id).
    public func optionalAccount(_ key: String = "account") throws(AgentError) -> AccountReference? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let reference = AccountReference(value) else {
            throw AgentError(.badRequest, "field \"\(key)\" must be an account name (string) or id (integer from 0 to 4294967295), not \(value.typeName)")
        }
        return reference
    }

    public func account(_ key: String = "account") throws(AgentError) -> AccountReference {
        guard let reference = try optionalAccount(key) else {
            throw AgentError(.badRequest, "field \"\(key)\" must be present: an account name or id")
        }
        return reference
    }
}

/// Rules for account names: short, printable, unambiguous in shells and logs.
public enum AccountName {
    public static let maxBytes = 64
    /// The account a login, a logout or an import names when it is given none.
    public static let defaultName = "default"

    /// Returns why `name` is not acceptable, or nil when it is.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "an account name must not be empty" }
        if name.utf8.count > maxBytes { return "an account name must be at most \(maxBytes) bytes" }
        if name.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return "an account name must not be all digits (digits name an account id)"
        }
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "@") || byte == UInt8(ascii: "+")
        }
        return allowed ? nil : "an account name may hold only ASCII letters, digits and . _ - @ +"
    }
}
