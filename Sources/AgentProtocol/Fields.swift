/// Typed reads of request and result fields. Every mismatch is a `bad_request` whose
/// message names the field and what was wrong, so a client author can fix it from the text.
extension JSONObject {
    public func string(_ key: String) throws(AgentError) -> String {
        guard let value = try optionalString(key) else { throw missing(key, "a string") }
        return value
    }

    public func optionalString(_ key: String) throws(AgentError) -> String? {
        guard let value = self[key], !value.isNull else { return nil }
        guard case .string(let string) = value else { throw mistyped(key, "a string", value) }
        return string
    }

    public func optionalInt(_ key: String) throws(AgentError) -> Int64? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let int = value.intValue else { throw mistyped(key, "an integer", value) }
        return int
    }

    public func int(_ key: String) throws(AgentError) -> Int64 {
        guard let value = try optionalInt(key) else { throw missing(key, "an integer") }
        return value
    }

    public func optionalBool(_ key: String) throws(AgentError) -> Bool? {
        guard let value = self[key], !value.isNull else { return nil }
        guard case .bool(let bool) = value else { throw mistyped(key, "a boolean", value) }
        return bool
    }

    public func optionalStringArray(_ key: String) throws(AgentError) -> [String]? {
        guard let value = self[key], !value.isNull else { return nil }
        guard case .array(let items) = value else { throw mistyped(key, "an array of strings", value) }
        var strings: [String] = []
        strings.reserveCapacity(items.count)
        for item in items {
            guard case .string(let string) = item else {
                throw AgentError(.badRequest, "field \"\(key)\" must be an array of strings, but holds \(item.typeName)")
            }
            strings.append(string)
        }
        return strings
    }

    private func missing(_ key: String, _ what: String) -> AgentError {
        AgentError(.badRequest, "field \"\(key)\" must be present and \(what)")
    }

    private func mistyped(_ key: String, _ what: String, _ value: JSONValue) -> AgentError {
        AgentError(.badRequest, "field \"\(key)\" must be \(what), not \(value.typeName)")
    }
}
