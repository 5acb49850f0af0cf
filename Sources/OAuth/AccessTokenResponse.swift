import AgentProtocol

/// A token endpoint's access token response (RFC 6749 §5.1), with the expiry made absolute so it
/// stays meaningful after the answer has been kept for a while.
public struct AccessTokenResponse: Sendable, Equatable {
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
    /// What was odd in the answer and how it was read (`expires_in 3599.5 floored to
    /// 3599`), for the log; empty for a well-formed answer. Never holds a token.
    public var oddities: [String]

    public init(accessToken: String, refreshToken: String?, expiresAt: Int64?, tokenType: String, scopes: [String]?,
                refreshTokenExpiresAt: Int64? = nil, profile: AccountProfile? = nil, oddities: [String] = []) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.tokenType = tokenType
        self.scopes = scopes
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
        self.profile = profile
        self.oddities = oddities
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
    /// Whether the request may have reached the server without its answer reaching us (a
    /// time-out after sending, a 5xx, an answer we could not read). A refresh token sent
    /// that way may have been used up by a rotating provider, so an `invalid_grant` for it
    /// later means the rotation was lost, not that the grant was revoked.
    public var mayHaveArrived: Bool

    public init(kind: Kind, code: String?, message: String, status: Int?, mayHaveArrived: Bool = false) {
        self.kind = kind
        self.code = code
        self.message = message
        self.status = status
        self.mayHaveArrived = mayHaveArrived
    }

    public var description: String { message }
}

extension AccessTokenResponse {
    /// Parses a 2xx token endpoint answer.
    ///
    /// Strict only in what a token cannot do without, lenient in the rest: once a rotating
    /// provider has answered 200 it has already used up the refresh token we sent, so
    /// refusing the answer for a cosmetic fault would throw away the only refresh token
    /// that still works (Postel's rule, as RFC 6749 §5.1 clients practise it). Each
    /// leniency is noted in `oddities`.
    ///
    /// - `access_token`: required, a non-empty string; otherwise the answer is `malformed`.
    /// - `token_type`: default `Bearer`; `bearer` in any case becomes `Bearer`, since
    ///   RFC 6749 §7.1 says it is case-insensitive and some providers write it in
    ///   lowercase; a type that is not a string counts as absent.
    /// - `expires_in` (seconds): an integer, a number (a fraction is floored: the token is
    ///   then thought to expire a little early, never late) or a numeric string, as some
    ///   providers send; otherwise `expires_at` (Unix seconds, or RFC 3339 text). A
    ///   lifetime that is absent, negative, unreadable or too large means no known expiry:
    ///   the token is used until a client reports it refused (`token.get` with `refresh`).
    /// - `refresh_token`: optional (an empty one, or one that is not a string, counts as
    ///   absent, and the caller keeps the one it has).
    /// - `scope`: optional, space-joined (an array of strings is read too); anything else
    ///   counts as absent.
    /// - `refresh_token_expires_in`: optional seconds, read as `expires_in` is (an odd one
    ///   counts as unknown and is noted), made absolute.
    /// - `account` / `organization`: optional display facts (`AccountProfile`).
    ///
    /// A 2xx answer that carries an OAuth `error` and no token (some providers answer errors
    /// with 200) is mapped as `OAuthError.fromResponse` maps error answers.
    public static func parse(_ body: [UInt8], now: Int64) throws(OAuthError) -> AccessTokenResponse {
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
        // A token no answer could carry (see `TokenBundle.maxTokenBytes`) is no usable token.
        guard accessToken.utf8.count <= TokenBundle.maxTokenBytes else {
            throw malformed("has an access_token over \(TokenBundle.maxTokenBytes) bytes")
        }
        // One that could forge a header line is none either (RFC 6750 §2.1).
        if let problem = TokenSyntax.problem(with: accessToken, field: "access_token") { throw malformed("has a bad \(problem)") }

        var oddities: [String] = []
        var tokenType = "Bearer"
        if let value = object["token_type"], !value.isNull {
            if let text = value.stringValue, !text.isEmpty {
                tokenType = text.lowercased() == "bearer" ? "Bearer" : text
            } else {
                oddities.append("token_type is \(value.stringValue == nil ? value.typeName : "empty"): taken as Bearer")
            }
        } else {
            oddities.append("no token_type: taken as Bearer")
        }

        var expiresAt: Int64?
        if let value = object["expires_in"], !value.isNull {
            // Range-checked at the door (`NumberRange.offsetSeconds`); out of range it is
            // dropped, not refused, so that a rotated refresh token beside it is kept.
            if let seconds = lifetimeSeconds(value, &oddities) {
                if NumberRange.offsetSeconds.contains(seconds) {
                    expiresAt = now.saturatingAdding(seconds)
                } else {
                    oddities.append("expires_in is too large to be a time: no known expiry")
                }
            }
        } else if let value = object["expires_at"], !value.isNull {
            if let seconds = value.intValue {
                expiresAt = seconds
            } else if let text = value.stringValue, let seconds = RFC3339.parse(text) {
                expiresAt = seconds
            } else {
                oddities.append("expires_at is neither Unix seconds nor an RFC 3339 time: no known expiry")
            }
            if let seconds = expiresAt, !NumberRange.epochSeconds.contains(seconds) {
                expiresAt = nil
                oddities.append("expires_at is outside the years 1970 to 9999: no known expiry")
            }
        }

        var refreshToken: String?
        if let value = object["refresh_token"], !value.isNull {
            if let text = value.stringValue {
                guard text.utf8.count <= TokenBundle.maxTokenBytes else {
                    throw malformed("has a refresh_token over \(TokenBundle.maxTokenBytes) bytes")
                }
                if !text.isEmpty, let problem = TokenSyntax.problem(with: text, field: "refresh_token") {
                    throw malformed("has a bad \(problem)")
                }
                refreshToken = text.isEmpty ? nil : text
            } else {
                oddities.append("refresh_token is \(value.typeName), not a string: ignored")
            }
        }

        var scopes: [String]?
        if let value = object["scope"], !value.isNull {
            if let text = value.stringValue {
                scopes = Scopes.parse(text)
            } else if let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) {
                scopes = Scopes.normalize(items.compactMap(\.stringValue))
                oddities.append("scope is an array, not a space-joined string")
            } else {
                oddities.append("scope is \(value.typeName), not a string: ignored")
            }
        }

        if let listed = scopes, !Scopes.fit(listed) {
            scopes = nil
            oddities.append("scope is over \(Scopes.maxJoinedBytes) bytes: ignored")
        }

        // The refresh token's lifetime is a display fact and a warning's trigger: an odd
        // one is unknown, never a failed login.
        var refreshTokenExpiresAt: Int64?
        if let value = object["refresh_token_expires_in"], !value.isNull {
            var noted: [String] = []
            if let seconds = lifetimeSeconds(value, &noted) {
                if NumberRange.offsetSeconds.contains(seconds) {
                    refreshTokenExpiresAt = now.saturatingAdding(seconds)
                } else {
                    noted.append("expires_in is too large to be a time: unknown")
                }
            }
            // lifetimeSeconds names the field expires_in; here it is refresh_token_expires_in.
            oddities += noted.map { "refresh_token_" + $0 }
        }
        let profile = AccountProfile(tokenResponse: object)

        return AccessTokenResponse(accessToken: accessToken, refreshToken: refreshToken, expiresAt: expiresAt,
                          tokenType: tokenType, scopes: scopes, refreshTokenExpiresAt: refreshTokenExpiresAt,
                          profile: profile.isEmpty ? nil : profile, oddities: oddities)
    }
    /// `expires_in` as whole seconds: an integer as it is, a non-negative number or
    /// numeric string floored; nil (noted) for anything else.
    private static func lifetimeSeconds(_ value: JSONValue, _ oddities: inout [String]) -> Int64? {
        var number = value.doubleValue
        if let text = value.stringValue {
            number = Int64(text).map(Double.init) ?? Double(text)
            oddities.append("expires_in is a string")
        }
        if let whole = value.intValue, whole >= 0 { return whole }
        // The range check also refuses NaN; truncation is the floor of a non-negative number.
        guard let number, number >= 0, number < 9_223_372_036_854_775_808.0 else {
            oddities.append("expires_in is not a non-negative number of seconds: no known expiry")
            return nil
        }
        let floored = Int64(number)
        if Double(floored) != number { oddities.append("expires_in has a fraction: floored to \(floored)") }
        return floored
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
        let code = answer?["error"]?.stringValue.map { sanitized($0, limit: maxErrorCodeCharacters) }
        let description = answer?["error_description"]?.stringValue.map { sanitized($0, limit: maxErrorDescriptionCharacters) }

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

    /// How much of a provider's `error` a message repeats, in characters: RFC 6749 §5.2's
    /// codes are a word or two; a longer one is a misbehaving server's.
    private static let maxErrorCodeCharacters = 64
    /// How much of a provider's `error_description` a message repeats, in characters: a
    /// sentence or two, so the message stays one readable line of a log or terminal.
    private static let maxErrorDescriptionCharacters = 300

    /// Provider text made safe for a one-line log: control characters become spaces and
    /// the length is capped.
    private static func sanitized(_ text: String, limit: Int) -> String {
        var result = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        if result.count > limit { result = String(result.prefix(limit)) + "…" }
        return result
    }
}
