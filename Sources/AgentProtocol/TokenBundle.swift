/// The access token a client is given: never the refresh token, which stays in the agent.
public struct AccessToken: Equatable, Sendable {
    public var accessToken: String
    public var tokenType: String
    /// Unix seconds; nil when the provider stated no expiry.
    public var expiresAt: Int64?
    public var scopes: [String]
    public var account: String
    public var accountID: UInt32
    /// The HTTP headers a request made with this token needs besides `Authorization`, in
    /// order (the provider's `headers`; Claude's: `anthropic-beta: oauth-2025-04-20`).
    public var headers: JSONObject

    public init(accessToken: String, tokenType: String, expiresAt: Int64?, scopes: [String], account: String, accountID: UInt32,
                headers: JSONObject = JSONObject()) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresAt = expiresAt
        self.scopes = scopes
        self.account = account
        self.accountID = accountID
        self.headers = headers
    }

    /// Every header line a request with this token needs, `Authorization` first, as
    /// `(name, value)` pairs.
    public var headerLines: [(String, String)] {
        [(HeaderName.authorization, "\(tokenType) \(accessToken)")] + headers.compactMap { name, value in value.stringValue.map { (name, $0) } }
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
            "headers": .object(headers),
        ]
    }

    public init(json: JSONObject) throws(AgentError) {
        headers = JSONObject()
        if let value = json["headers"], !value.isNull {
            guard let object = value.objectValue, object.allSatisfy({ $0.value.stringValue != nil }) else {
                throw AgentError(.badRequest, "field \"headers\" must be an object of strings")
            }
            headers = object
        }
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
    /// When the refresh token lapses (Unix seconds), when the provider said so.
    public var refreshTokenExpiresAt: Int64?

    public init(accessToken: String, refreshToken: String?, expiresAt: Int64?, tokenType: String, scopes: [String],
                refreshTokenExpiresAt: Int64? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.tokenType = tokenType
        self.scopes = scopes
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
    }

    /// The fields `init(json:now:)` reads; any other is ignored.
    public static let fieldNames: Set<String> = ["access_token", "refresh_token", "expires_at", "expires_in", "token_type",
                                                 "scope", "scopes"]

    /// The longest access or refresh token accepted, in bytes. Tokens are a few hundred
    /// bytes (JWTs a few KiB); the cap keeps every answer that carries one well inside a
    /// frame (`Frame.maxPayloadBytes`).
    public static let maxTokenBytes = 16 * 1024

    /// Reads `access_token`, optional `refresh_token`, `expires_at` (RFC 3339, within
    /// `NumberRange.epochSeconds`) or `expires_in` (seconds from `now`, within
    /// `NumberRange.expiresInSeconds`), optional `token_type` ("Bearer"), scopes, and
    /// optional `refresh_token_expires_at` (RFC 3339, within `NumberRange.epochSeconds`).
    /// - Throws: `bad_request` naming the field for a missing, mistyped or out-of-range one.
    public init(json: JSONObject, now: Int64) throws(AgentError) {
        accessToken = try json.string("access_token")
        if let problem = TokenSyntax.problem(with: accessToken, field: "access_token") { throw AgentError(.badRequest, problem) }
        refreshToken = try json.optionalString("refresh_token").flatMap { $0.isEmpty ? nil : $0 }
        if let refreshToken, let problem = TokenSyntax.problem(with: refreshToken, field: "refresh_token") {
            throw AgentError(.badRequest, problem)
        }
        if let text = try json.optionalString("expires_at") {
            guard let seconds = RFC3339.parse(text), NumberRange.epochSeconds.contains(seconds) else {
                throw AgentError(.badRequest, "field \"expires_at\" must be an RFC 3339 date-time from 1970 to 9999 such as 2026-01-02T15:04:05Z")
            }
            expiresAt = seconds
        } else if let seconds = try json.optionalInt("expires_in", in: NumberRange.expiresInSeconds, unit: "seconds") {
            expiresAt = now.saturatingAdding(seconds)
        } else {
            expiresAt = nil
        }
        tokenType = try json.optionalString("token_type") ?? "Bearer"
        scopes = try json.scopes() ?? []
        if let text = try json.optionalString("refresh_token_expires_at") {
            guard let seconds = RFC3339.parse(text), NumberRange.epochSeconds.contains(seconds) else {
                throw AgentError(.badRequest, "field \"refresh_token_expires_at\" must be an RFC 3339 date-time from 1970 to 9999")
            }
            refreshTokenExpiresAt = seconds
        } else {
            refreshTokenExpiresAt = nil
        }
    }

    public var json: JSONObject {
        var object: JSONObject = ["access_token": .string(accessToken)]
        if let refreshToken { object["refresh_token"] = .string(refreshToken) }
        if let expiresAt { object["expires_at"] = .string(RFC3339.format(expiresAt)) }
        if let refreshTokenExpiresAt { object["refresh_token_expires_at"] = .string(RFC3339.format(refreshTokenExpiresAt)) }
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
    /// Tolerant: a state this version does not know is kept as the agent wrote it.
    public var state: AccountState
    /// When the agent will forget the account (`-t` / `lifetime`), Unix seconds.
    public var forgetAt: Int64?
    /// When the refresh token lapses, Unix seconds; nil when the provider did not say.
    public var refreshTokenExpiresAt: Int64?
    /// Who the account is (email, organization), when the provider said.
    public var profile: AccountProfile?

    public init(id: UInt32, name: String, scopes: [String], expiresAt: Int64?, fingerprint: String,
                hasRefreshToken: Bool, state: AccountState, forgetAt: Int64?, refreshTokenExpiresAt: Int64? = nil,
                profile: AccountProfile? = nil) {
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
        self.profile = profile
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
        var object: JSONObject = [
            "id": .int(Int64(id)),
            "account": .string(name),
            "scopes": .array(scopes.map(JSONValue.string)),
            "expires_at": expiresAt.map { .string(RFC3339.format($0)) } ?? .null,
            "fingerprint": .string(fingerprint),
            "has_refresh_token": .bool(hasRefreshToken),
            "state": .string(state.rawValue),
            "forget_at": forgetAt.map { .string(RFC3339.format($0)) } ?? .null,
            "refresh_expires_at": refreshTokenExpiresAt.map { .string(RFC3339.format($0)) } ?? .null,
        ]
        for (key, value) in profile?.jsonMembers ?? [] { object[key] = value }
        return object
    }

    public init(json: JSONObject) throws(AgentError) {
        id = UInt32(clamping: try json.int("id"))
        name = try json.string("account")
        scopes = try json.scopes() ?? []
        expiresAt = try json.optionalString("expires_at").flatMap(RFC3339.parse)
        fingerprint = try json.optionalString("fingerprint") ?? ""
        hasRefreshToken = try json.optionalBool("has_refresh_token") ?? false
        state = AccountState(rawValue: try json.optionalString("state") ?? "")
        forgetAt = try json.optionalString("forget_at").flatMap(RFC3339.parse)
        refreshTokenExpiresAt = try json.optionalString("refresh_expires_at").flatMap(RFC3339.parse)
        let profile = try AccountProfile(json: json)
        self.profile = profile.isEmpty ? nil : profile
    }
}
