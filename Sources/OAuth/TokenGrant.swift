import AgentProtocol

/// What a token endpoint granted (RFC 6749 §5.1), with the expiry made absolute so it
/// stays meaningful after the answer has been kept for a while.
public struct TokenGrant: Sendable, Equatable {
    public var accessToken: String
    /// nil when the answer had none; on a refresh the caller then keeps the refresh token
    /// it already has (RFC 6749 §6 lets the provider keep it unchanged).
    public var refreshToken: String?
    /// Unix seconds; nil when the provider stated no lifetime.
    public var expiresAt: Int64?
    /// `Bearer` in its canonical spelling.
    public var tokenType: String
    /// nil when the answer had no `scope`, which RFC 6749 §5.1 says means the scopes asked
    /// for were granted.
    public var scopes: [String]?
    /// When the refresh token lapses, Unix seconds, from `refresh_token_expires_in`
    /// (Claude's endpoint sends it at times; so do GitHub's and others); nil: not said.
    public var refreshTokenExpiresAt: Int64?
    /// Who logged in, when the answer says (Claude's `account` and `organization`).
    public var profile: AccountProfile?

    public init(accessToken: String, refreshToken: String?, expiresAt: Int64?, tokenType: String, scopes: [String]?,
                refreshTokenExpiresAt: Int64? = nil, profile: AccountProfile? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.tokenType = tokenType
        self.scopes = scopes
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
        self.profile = profile
    }
}

/// A failed exchange with a token or revocation endpoint, sorted by what the agent should
/// do next: log in again, try again later, or give up and tell the user why.
public struct OAuthError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The code or refresh token is dead (`invalid_grant`): the user must log in again.
        case invalidGrant
        /// Worth retrying later: a network error, a time-out, a 5xx or 429 answer.
        case transient
        /// Any other OAuth error, or another 4xx answer: retrying will not help.
        case rejected
        /// The answer was not a valid token response.
        case malformed
    }

    public var kind: Kind
    /// The OAuth `error` code (`invalid_grant`, `invalid_client`, …) when the provider gave one.
    public var code: String?
    /// For people. Never contains a token: it is built from status codes, OAuth error codes
    /// and descriptions, and field names, never from field values we were sent or given.
    public var message: String
    /// The HTTP status, when an answer arrived.
    public var status: Int?

    public init(kind: Kind, code: String?, message: String, status: Int?) {
        self.kind = kind
        self.code = code
        self.message = message
        self.status = status
    }

    public var description: String { message }
}

extension TokenGrant {
    /// Parses a 2xx token endpoint answer.
    ///
    /// - `access_token`: required, a non-empty string.
    /// - `token_type`: default `Bearer`; `bearer` in any case becomes `Bearer`, since
    ///   RFC 6749 says it is case-insensitive and some providers write it in lowercase.
    /// - `expires_in` (seconds, an integer or a numeric string, as some providers send)
    ///   gives `now + expires_in`; otherwise `expires_at` (Unix seconds, or RFC 3339 text)
    ///   is taken as it is; otherwise there is no expiry.
    /// - `refresh_token`: optional (an empty one counts as absent).
    /// - `scope`: optional, space-joined.
    /// - `refresh_token_expires_in`: optional seconds, as `expires_in`, made absolute.
    /// - `account` / `organization`: optional display facts (`AccountProfile`).
    ///
    /// A 2xx answer that carries an OAuth `error` and no token (some providers answer errors
    /// with 200) is mapped as `OAuthError.fromResponse` maps error answers.
    public static func parse(_ body: [UInt8], now: Int64) throws(OAuthError) -> TokenGrant {
        func malformed(_ message: String) -> OAuthError {
            OAuthError(kind: .malformed, code: nil, message: "the token endpoint's answer \(message)", status: nil)
        }
        let document: JSONValue
        do throws(JSONError) {
            document = try JSONValue.parse(body)
        } catch {
            throw malformed("is not JSON (\(error))")
        }
        guard let object = document.objectValue else { throw malformed("is a JSON \(document.typeName), not an object") }
        if object["access_token"] == nil, object["error"]?.stringValue != nil {
            throw OAuthError.fromResponse(status: 200, body: body)
        }

        guard let accessValue = object["access_token"] else { throw malformed("has no access_token") }
        guard let accessToken = accessValue.stringValue else {
            throw malformed("has an access_token that is \(accessValue.typeName), not a string")
        }
        guard !accessToken.isEmpty else { throw malformed("has an empty access_token") }

        var tokenType = "Bearer"
        if let value = object["token_type"], !value.isNull {
            guard let text = value.stringValue, !text.isEmpty else {
                throw malformed("has a token_type that is not a non-empty string")
            }
            tokenType = text.lowercased() == "bearer" ? "Bearer" : text
        }

        var expiresAt: Int64?
        if let value = object["expires_in"], !value.isNull {
            guard let seconds = value.intValue ?? value.stringValue.flatMap({ Int64($0) }), seconds >= 0 else {
                throw malformed("has an expires_in that is not a whole number of seconds")
            }
            let (sum, overflow) = now.addingReportingOverflow(seconds)
            guard !overflow else { throw malformed("has an expires_in too large to be a time") }
            expiresAt = sum
        } else if let value = object["expires_at"], !value.isNull {
            if let seconds = value.intValue {
                expiresAt = seconds
            } else if let text = value.stringValue, let seconds = RFC3339.parse(text) {
                expiresAt = seconds
            } else {
                throw malformed("has an expires_at that is neither Unix seconds nor an RFC 3339 time")
            }
        }

        var refreshToken: String?
        if let value = object["refresh_token"], !value.isNull {
            guard let text = value.stringValue else {
                throw malformed("has a refresh_token that is \(value.typeName), not a string")
            }
            refreshToken = text.isEmpty ? nil : text
        }

        var scopes: [String]?
        if let value = object["scope"], !value.isNull {
            guard let text = value.stringValue else { throw malformed("has a scope that is \(value.typeName), not a string") }
            scopes = Scopes.parse(text)
        }

        var refreshTokenExpiresAt: Int64?
        if let value = object["refresh_token_expires_in"], !value.isNull {
            guard let seconds = value.intValue ?? value.stringValue.flatMap({ Int64($0) }), seconds >= 0 else {
                throw malformed("has a refresh_token_expires_in that is not a whole number of seconds")
            }
            let (sum, overflow) = now.addingReportingOverflow(seconds)
            guard !overflow else { throw malformed("has a refresh_token_expires_in too large to be a time") }
            refreshTokenExpiresAt = sum
        }
        let profile = AccountProfile(tokenResponse: object)

        return TokenGrant(accessToken: accessToken, refreshToken: refreshToken, expiresAt: expiresAt,
                          tokenType: tokenType, scopes: scopes, refreshTokenExpiresAt: refreshTokenExpiresAt,
                          profile: profile.isEmpty ? nil : profile)
    }
}

extension OAuthError {
    /// Sorts a non-2xx answer (RFC 6749 §5.2):
    ///
    /// - a JSON body `{"error": "invalid_grant"}`, whatever the status: `invalidGrant`,
    ///   since no retry can revive a dead grant;
    /// - otherwise 5xx and 429: `transient`;
    /// - anything else: `rejected`, with `error` and `error_description` in the message.
    ///
    /// `endpoint` names the endpoint in the message (default: "the token endpoint").
    /// The body itself is never quoted, as a misbehaving server or proxy could echo the
    /// request, and with it a token.
    public static func fromResponse(status: Int, body: [UInt8], endpoint: String? = nil) -> OAuthError {
        let answer = (try? JSONValue.parse(body))?.objectValue
        let code = answer?["error"]?.stringValue.map { sanitized($0, limit: 64) }
        let description = answer?["error_description"]?.stringValue.map { sanitized($0, limit: 300) }

        var message = "\(endpoint ?? "the token endpoint") answered HTTP \(status)"
        if let code {
            message += ": \(code)"
            if let description, !description.isEmpty { message += " (\(description))" }
        } else if status == 429 {
            message += ": too many requests"
        } else if status >= 500 {
            message += ": server error"
        }

        let kind: Kind
        if code == "invalid_grant" {
            kind = .invalidGrant
        } else if status >= 500 || status == 429 {
            kind = .transient
        } else {
            kind = .rejected
        }
        return OAuthError(kind: kind, code: code, message: message, status: status)
    }

    /// Provider text made safe for a one-line log: control characters become spaces and
    /// the length is capped.
    private static func sanitized(_ text: String, limit: Int) -> String {
        var result = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        if result.count > limit { result = String(result.prefix(limit)) + "…" }
        return result
    }
}
