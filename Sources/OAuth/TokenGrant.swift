import AgentProtocol

/// What the token endpoint granted.
public struct TokenGrant: Sendable, Equatable {
    public var accessToken: String
    /// nil when the response omitted it (the caller keeps the one it has).
    public var refreshToken: String?
    /// Unix seconds.
    public var expiresAt: Int64?
    public var tokenType: String
    /// nil when the response omitted `scope` (the scopes asked for were granted).
    public var scopes: [String]?

    public init(accessToken: String, refreshToken: String?, expiresAt: Int64?, tokenType: String, scopes: [String]?) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.tokenType = tokenType
        self.scopes = scopes
    }
}

/// A failed OAuth exchange, sorted by what the agent should do about it.
public struct OAuthError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The code or refresh token is dead: log in again.
        case invalidGrant
        /// Worth retrying: a network error, a time-out, 5xx or 429.
        case transient
        /// Any other error the provider stated, or another 4xx.
        case rejected
        /// The answer was not a valid token response.
        case malformed
    }

    public var kind: Kind
    /// The OAuth `error` code, when the provider gave one.
    public var code: String?
    /// Never contains a token.
    public var message: String
    public var status: Int?

    public init(kind: Kind, code: String?, message: String, status: Int?) {
        self.kind = kind
        self.code = code
        self.message = message
        self.status = status
    }

    public var description: String { message }

    /// Maps a non-2xx answer: 5xx and 429 are transient; `{"error": "invalid_grant"}` is
    /// a dead grant whatever the status; any other error is rejected, with the
    /// provider's `error_description` in the message.
    public static func fromResponse(status: Int, body: [UInt8]) -> OAuthError {
        let object = (try? JSONValue.parse(body))?.objectValue
        let code = object?["error"]?.stringValue
        let description = object?["error_description"]?.stringValue
        let detail = [code, description].compactMap { $0 }.joined(separator: ": ")
        let message = "HTTP \(status)" + (detail.isEmpty ? "" : " \(detail)")
        if code == "invalid_grant" { return OAuthError(kind: .invalidGrant, code: code, message: message, status: status) }
        if status >= 500 || status == 429 { return OAuthError(kind: .transient, code: code, message: message, status: status) }
        return OAuthError(kind: .rejected, code: code, message: message, status: status)
    }
}

extension TokenGrant {
    /// Reads a successful token response (RFC 6749 §5.1): `access_token` (required),
    /// `token_type` (default Bearer), `expires_in` (number or numeric string) or
    /// `expires_at` (epoch seconds or RFC 3339), `refresh_token`, `scope`.
    public static func parse(_ body: [UInt8], now: Int64) throws(OAuthError) -> TokenGrant {
        guard let object = (try? JSONValue.parse(body))?.objectValue else {
            throw OAuthError(kind: .malformed, code: nil, message: "the token response is not a JSON object", status: nil)
        }
        guard let access = object["access_token"]?.stringValue, !access.isEmpty else {
            throw OAuthError(kind: .malformed, code: nil, message: "the token response has no access_token", status: nil)
        }
        var type = object["token_type"]?.stringValue ?? "Bearer"
        if type.lowercased() == "bearer" { type = "Bearer" }
        var expiresAt: Int64?
        if let seconds = object["expires_in"]?.intValue ?? object["expires_in"]?.stringValue.flatMap({ Int64($0) }) {
            expiresAt = now + seconds
        } else if let absolute = object["expires_at"] {
            expiresAt = absolute.intValue ?? absolute.stringValue.flatMap(RFC3339.parse)
        }
        let refresh = object["refresh_token"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let scopes = object["scope"]?.stringValue.map(Scopes.parse)
        return TokenGrant(accessToken: access, refreshToken: refresh, expiresAt: expiresAt, tokenType: type, scopes: scopes)
    }
}
