/// The access token a client is given: never the refresh token, which stays in the agent.
public struct AccessToken: Equatable, Sendable {
    public var accessToken: String
    public var tokenType: String
    /// Unix seconds; nil when the provider stated no expiry.
    public var expiresAt: Int64?
    public var scopes: [String]
    public var account: String
    public var accountID: UInt32

    public init(accessToken: String, tokenType: String, expiresAt: Int64?, scopes: [String], account: String, accountID: UInt32) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresAt = expiresAt
        self.scopes = scopes
        self.account = account
        self.accountID = accountID
    }

    /// The `token.get` result object.
    public var json: JSONObject {
        [
            "account": .string(account),
            "account_id": .int(Int64(accountID)),
            "access_token": .string(accessToken),
            "token_type": .string(tokenType),
            "expires_at": expiresAt.map { .string(RFC3339.format($0)) } ?? .null,
            "scopes": .array(scopes.map(JSONValue.string)),
        ]
    }

    public init(json: JSONObject) throws(AgentError) {
        accessToken = try json.string("access_token")
        tokenType = try json.optionalString("token_type") ?? "Bearer"
        expiresAt = try json.optionalString("expires_at").flatMap(RFC3339.parse)
        scopes = try json.scopes() ?? []
        account = try json.optionalString("account") ?? ""
        accountID = UInt32(clamping: try json.optionalInt("account_id") ?? 0)
    }
}

/// A token bundle: the original router's `TokenBundle` (access token, optional refresh
/// token, expiry, type, scopes), as a person or tool imports it (`account.add`,
/// `claude-agent add`) and as the agent holds it. On the wire `scope` may be space-joined
/// or `scopes` an array.
public struct TokenBundle: Equatable, Sendable {
    public var accessToken: String
    public var refreshToken: String?
    public var expiresAt: Int64?
    public var tokenType: String
    public var scopes: [String]

    public init(accessToken: String, refreshToken: String?, expiresAt: Int64?, tokenType: String, scopes: [String]) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.tokenType = tokenType
        self.scopes = scopes
    }

    /// The fields `init(json:now:)` reads; any other is ignored.
    public static let fieldNames: Set<String> = ["access_token", "refresh_token", "expires_at", "expires_in", "token_type",
                                                 "scope", "scopes"]

    /// Reads `access_token`, optional `refresh_token`, `expires_at` (RFC 3339) or
    /// `expires_in` (seconds from `now`), optional `token_type` ("Bearer"), and scopes.
    public init(json: JSONObject, now: Int64) throws(AgentError) {
        accessToken = try json.string("access_token")
        guard !accessToken.isEmpty else { throw AgentError(.badRequest, "field \"access_token\" must not be empty") }
        refreshToken = try json.optionalString("refresh_token").flatMap { $0.isEmpty ? nil : $0 }
        if let text = try json.optionalString("expires_at") {
            guard let seconds = RFC3339.parse(text) else {
                throw AgentError(.badRequest, "field \"expires_at\" must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z")
            }
            expiresAt = seconds
        } else if let seconds = try json.optionalInt("expires_in") {
            expiresAt = now + seconds
        } else {
            expiresAt = nil
        }
        tokenType = try json.optionalString("token_type") ?? "Bearer"
        scopes = try json.scopes() ?? []
    }

    public var json: JSONObject {
        var object: JSONObject = ["access_token": .string(accessToken)]
        if let refreshToken { object["refresh_token"] = .string(refreshToken) }
        if let expiresAt { object["expires_at"] = .string(RFC3339.format(expiresAt)) }
        object["token_type"] = .string(tokenType)
        object["scopes"] = .array(scopes.map(JSONValue.string))
        return object
    }
}

/// What `account.list` tells about an account: never a secret.
public struct AccountSummary: Equatable, Sendable {
    public var id: UInt32
    public var name: String
    public var scopes: [String]
    public var expiresAt: Int64?
    public var fingerprint: String
    public var hasRefreshToken: Bool
    /// "ok", "expired", "refreshing", "login_required" or "error: ...".
    public var state: String
    /// When the agent will forget the account (`-t` / `lifetime`), Unix seconds.
    public var forgetAt: Int64?

    public init(id: UInt32, name: String, scopes: [String], expiresAt: Int64?, fingerprint: String,
                hasRefreshToken: Bool, state: String, forgetAt: Int64?) {
        self.id = id
        self.name = name
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.fingerprint = fingerprint
        self.hasRefreshToken = hasRefreshToken
        self.state = state
        self.forgetAt = forgetAt
    }

    public var json: JSONObject {
        [
            "id": .int(Int64(id)),
            "account": .string(name),
            "scopes": .array(scopes.map(JSONValue.string)),
            "expires_at": expiresAt.map { .string(RFC3339.format($0)) } ?? .null,
            "fingerprint": .string(fingerprint),
            "has_refresh_token": .bool(hasRefreshToken),
            "state": .string(state),
            "forget_at": forgetAt.map { .string(RFC3339.format($0)) } ?? .null,
        ]
    }

    public init(json: JSONObject) throws(AgentError) {
        id = UInt32(clamping: try json.int("id"))
        name = try json.string("account")
        scopes = try json.scopes() ?? []
        expiresAt = try json.optionalString("expires_at").flatMap(RFC3339.parse)
        fingerprint = try json.optionalString("fingerprint") ?? ""
        hasRefreshToken = try json.optionalBool("has_refresh_token") ?? false
        state = try json.optionalString("state") ?? ""
        forgetAt = try json.optionalString("forget_at").flatMap(RFC3339.parse)
    }
}
