/// Who an account is, as the provider's token response says: facts for people to tell
/// accounts apart in `list` and on the approval page. Never a secret.
///
/// Claude's token endpoint answers `account: {uuid, email_address}` and
/// `organization: {uuid, name}` beside the tokens (as Claude Code stores them in its
/// `oauthAccount`); other providers send nothing, and every field is optional.
public struct AccountProfile: Equatable, Sendable {
    public var email: String?
    public var accountUUID: String?
    public var organizationName: String?
    public var organizationUUID: String?

    public init(email: String? = nil, accountUUID: String? = nil, organizationName: String? = nil, organizationUUID: String? = nil) {
        self.email = email
        self.accountUUID = accountUUID
        self.organizationName = organizationName
        self.organizationUUID = organizationUUID
    }

    /// The longest display fact kept, in bytes; longer ones are dropped, not cut.
    public static let maxFieldBytes = 256

    public var isEmpty: Bool { email == nil && accountUUID == nil && organizationName == nil && organizationUUID == nil }

    /// Reads a token response's `account` and `organization` objects. A field that is
    /// missing, not a string, too long or holds control characters is left out: these are
    /// display facts, and a provider's oddity here must not fail a login.
    public init(tokenResponse object: JSONObject) {
        func text(_ value: JSONValue?) -> String? {
            guard let string = value?.stringValue, !string.isEmpty, string.utf8.count <= Self.maxFieldBytes,
                  string.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
            else { return nil }
            return string
        }
        let account = object["account"]?.objectValue
        let organization = object["organization"]?.objectValue
        self.init(email: text(account?["email_address"] ?? account?["email"]), accountUUID: text(account?["uuid"]),
                  organizationName: text(organization?["name"]), organizationUUID: text(organization?["uuid"]))
    }

    /// The members `account.list` adds for it (absent fields left out).
    public var jsonMembers: [(String, JSONValue)] {
        [("email", email), ("account_uuid", accountUUID), ("organization", organizationName),
         ("organization_uuid", organizationUUID)].compactMap { key, value in value.map { (key, .string($0)) } }
    }

    public init(json: JSONObject) throws(AgentError) {
        self.init(email: try json.optionalString("email"), accountUUID: try json.optionalString("account_uuid"),
                  organizationName: try json.optionalString("organization"),
                  organizationUUID: try json.optionalString("organization_uuid"))
    }

    /// `alice@example.com (Example Org)`, or whichever part is known; nil when nothing is.
    public var displayText: String? {
        switch (email, organizationName) {
        case (let email?, let organization?): return "\(email) (\(organization))"
        case (let email?, nil): return email
        case (nil, let organization?): return organization
        case (nil, nil): return nil
        }
    }
}
