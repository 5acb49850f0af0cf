/// OAuth scopes: a set, written space-joined in OAuth and as an array in our protocol.
public enum Scopes {
    /// Splits a space-joined scope string, dropping empties and duplicates, keeping order.
    public static func parse(_ text: String) -> [String] {
        normalize(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init))
    }

    /// Drops empty strings and duplicates, keeping first occurrences in order.
    public static func normalize(_ scopes: [String]) -> [String] {
        var seen = Set<String>()
        return scopes.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// Whether a token holding `held` may serve a request for `requested`.
    public static func cover(_ held: [String], _ requested: [String]) -> Bool {
        let heldSet = Set(held)
        return requested.allSatisfy(heldSet.contains)
    }

    public static func joined(_ scopes: [String]) -> String { scopes.joined(separator: " ") }

    /// The most bytes the scopes of one token or request may take, space-joined. Real
    /// scope lists are tens of bytes; the cap keeps every answer listing scopes (a page
    /// of `account.list` or `request.list` entries, a token) a known size.
    public static let maxJoinedBytes = 4096

    /// Whether `scopes`, space-joined, fit `maxJoinedBytes`.
    public static func fit(_ scopes: [String]) -> Bool {
        scopes.reduce(0) { $0 + $1.utf8.count + 1 } <= maxJoinedBytes + 1
    }

    /// A scope token is printable ASCII without space, '"' or '\' (RFC 6749 §3.3).
    public static func isValid(_ scope: String) -> Bool {
        !scope.isEmpty && scope.utf8.allSatisfy { $0 == 0x21 || ($0 >= 0x23 && $0 <= 0x5B) || ($0 >= 0x5D && $0 <= 0x7E) }
    }
}

extension JSONObject {
    /// Scopes from `"scopes": [..]` or, as in OAuth token bundles, `"scope": "a b"`.
    public func scopes() throws(AgentError) -> [String]? {
        var result: [String]?
        if let array = try optionalStringArray("scopes") {
            result = Scopes.normalize(array)
        } else if let joined = try optionalString("scope") {
            result = Scopes.parse(joined)
        }
        if let invalid = result?.first(where: { !Scopes.isValid($0) }) {
            throw AgentError(.badRequest, "scope \"\(invalid.prefix(64))\" is not a valid OAuth scope token")
        }
        if let result, !Scopes.fit(result) {
            throw AgentError(.badRequest, "the scopes must take at most \(Scopes.maxJoinedBytes) bytes space-joined")
        }
        return result
    }
}
