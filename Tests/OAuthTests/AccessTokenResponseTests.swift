import AgentProtocol
import OAuth
import Testing

@Suite("Token endpoint answers")
struct AccessTokenResponseTests {
    static let now: Int64 = 1_795_000_000

    static func parse(_ text: String) throws(OAuthError) -> AccessTokenResponse {
        try AccessTokenResponse.parse(Array(text.utf8), now: now)
    }

    static func failure(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> OAuthError? {
        do {
            let grant = try parse(text)
            Issue.record("parsed, but should not have: \(grant)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    @Test("a full answer: expires_in becomes now + expires_in, scope is split")
    func fullAnswer() throws {
        let grant = try Self.parse("""
            {"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-1",
             "scope": "user:inference user:profile", "other": {"uuid": "x"}}
            """)
        #expect(grant == AccessTokenResponse(accessToken: "at-1", refreshToken: "rt-1", expiresAt: Self.now + 3600,
                                    tokenType: "Bearer", scopes: ["user:inference", "user:profile"]))
    }

    @Test("Claude's answer: refresh_token_expires_in becomes the refresh token's expiry; account and organization are kept for display")
    func claudeAnswer() throws {
        let grant = try Self.parse("""
            {"token_type": "Bearer", "access_token": "sk-ant-oat01-a", "expires_in": 28800, "refresh_token": "sk-ant-ort01-r",
             "scope": "user:inference user:profile", "refresh_token_expires_in": 2592000,
             "organization": {"uuid": "org-1", "name": "Example Org"},
             "account": {"uuid": "acct-1", "email_address": "alice@example.com"}}
            """)
        #expect(grant == AccessTokenResponse(accessToken: "sk-ant-oat01-a", refreshToken: "sk-ant-ort01-r", expiresAt: Self.now + 28800,
                                    tokenType: "Bearer", scopes: ["user:inference", "user:profile"],
                                    refreshTokenExpiresAt: Self.now + 2_592_000,
                                    profile: AccountProfile(email: "alice@example.com", accountUUID: "acct-1",
                                                            organizationName: "Example Org", organizationUUID: "org-1")))
        #expect(grant.profile?.displayText == "alice@example.com (Example Org)")
        // Odd display facts and refresh-token lifetimes are dropped (and noted), never a
        // failed login.
        let odd = try Self.parse("{\"access_token\": \"a\", \"account\": {\"email_address\": \"a\\nb\"}, \"organization\": 7}")
        #expect(odd.profile == nil)
        for lifetime in ["-1", "9223372036854775807", "\"soon\"", "[]"] {
            let grant = try Self.parse("{\"access_token\": \"a\", \"refresh_token_expires_in\": \(lifetime)}")
            #expect(grant.refreshTokenExpiresAt == nil, "\(lifetime)")
            #expect(grant.oddities.contains { $0.hasPrefix("refresh_token_expires_in") }, "\(lifetime): \(grant.oddities)")
        }
        #expect(try Self.parse("{\"access_token\": \"a\", \"refresh_token_expires_in\": \"60\"}").refreshTokenExpiresAt == Self.now + 60)
    }

    @Test("expires_in may be a numeric string or an integral number")
    func expiresInForms() throws {
        #expect(try Self.parse("{\"access_token\": \"a\", \"expires_in\": \"7200\"}").expiresAt == Self.now + 7200)
        #expect(try Self.parse("{\"access_token\": \"a\", \"expires_in\": 60.0}").expiresAt == Self.now + 60)
        #expect(try Self.parse("{\"access_token\": \"a\", \"expires_in\": 0}").expiresAt == Self.now)
    }

    @Test("without expires_in, expires_at is taken as Unix seconds or RFC 3339")
    func expiresAtForms() throws {
        #expect(try Self.parse("{\"access_token\": \"a\", \"expires_at\": 1795003600}").expiresAt == 1_795_003_600)
        #expect(try Self.parse("{\"access_token\": \"a\", \"expires_at\": \"2026-11-23T16:00:00Z\"}").expiresAt
            == 1_795_449_600)
        #expect(try Self.parse("{\"access_token\": \"a\", \"expires_at\": \"2026-11-23T17:00:00+01:00\"}").expiresAt
            == 1_795_449_600)
        // expires_in wins when both are present: it does not depend on the two clocks agreeing.
        #expect(try Self.parse("{\"access_token\": \"a\", \"expires_in\": 10, \"expires_at\": 5}").expiresAt == Self.now + 10)
    }

    @Test("optional fields may be absent or null")
    func absentFields() throws {
        let grant = try Self.parse("{\"access_token\": \"a\", \"token_type\": \"Bearer\", \"refresh_token\": null, \"expires_in\": null}")
        #expect(grant == AccessTokenResponse(accessToken: "a", refreshToken: nil, expiresAt: nil, tokenType: "Bearer", scopes: nil))
        #expect(try Self.parse("{\"access_token\": \"a\"}").refreshToken == nil)
        #expect(try Self.parse("{\"access_token\": \"a\", \"refresh_token\": \"\"}").refreshToken == nil)
        #expect(try Self.parse("{\"access_token\": \"a\", \"scope\": \"\"}").scopes == [])
    }

    @Test("token_type bearer in any case becomes Bearer; others are kept")
    func tokenTypeCase() throws {
        #expect(try Self.parse("{\"access_token\": \"a\", \"token_type\": \"bearer\"}").tokenType == "Bearer")
        #expect(try Self.parse("{\"access_token\": \"a\", \"token_type\": \"BEARER\"}").tokenType == "Bearer")
        #expect(try Self.parse("{\"access_token\": \"a\", \"token_type\": \"DPoP\"}").tokenType == "DPoP")
    }

    @Test("answers that are not token responses are malformed, and the message never quotes a token", arguments: [
        ("{\"token_type\": \"Bearer\", \"refresh_token\": \"rt-secret\"}", "has no access_token"),
        ("{\"access_token\": \"\"}", "has an empty access_token"),
        ("{\"access_token\": 12345}", "has an access_token that is integer, not a string"),
        ("not json at all", "is not JSON"),
        ("", "is not JSON"),
        ("[\"access_token\"]", "is a JSON array, not an object"),
    ])
    func malformed(text: String, fragment: String) throws {
        let error = try #require(Self.failure(text))
        #expect(error.kind == .malformed)
        #expect(error.message.contains(fragment), "\(error.message)")
        #expect(!error.message.contains("secret"))
        #expect(error.code == nil)
    }

    @Test("once a 200 carries an access token, the rotated refresh token is kept whatever else is odd, and the oddity noted",
          arguments: [
        (#""expires_in": 3599.5"#, Optional(AccessTokenResponseTests.now + 3599), "expires_in has a fraction: floored to 3599"),
        (#""expires_in": "3600""#, Optional(AccessTokenResponseTests.now + 3600), "expires_in is a string"),
        (#""expires_in": "3599.9""#, Optional(AccessTokenResponseTests.now + 3599), "expires_in has a fraction: floored to 3599"),
        (#""expires_in": "soon""#, nil, "expires_in is not a non-negative number of seconds: no known expiry"),
        (#""expires_in": -5"#, nil, "expires_in is not a non-negative number of seconds: no known expiry"),
        (#""expires_in": 9223372036854775807"#, nil, "expires_in is too large to be a time: no known expiry"),
        (#""expires_at": "tomorrow""#, nil, "expires_at is neither Unix seconds nor an RFC 3339 time: no known expiry"),
        (#""expires_in": 60, "token_type": 1"#, Optional(AccessTokenResponseTests.now + 60), "token_type is integer: taken as Bearer"),
        (#""expires_in": 60, "scope": 7"#, Optional(AccessTokenResponseTests.now + 60), "scope is integer, not a string: ignored"),
    ])
    func lenient(fields: String, expiresAt: Int64?, oddity: String) throws {
        let type = fields.contains("token_type") ? "" : #""token_type": "Bearer", "#
        let grant = try Self.parse(#"{"access_token": "at-2", "refresh_token": "rt-2", "# + type + fields + "}")
        #expect(grant.accessToken == "at-2")
        #expect(grant.refreshToken == "rt-2")
        #expect(grant.tokenType == "Bearer")
        #expect(grant.expiresAt == expiresAt)
        #expect(grant.oddities.contains(oddity), "\(grant.oddities)")
    }

    @Test("a missing token_type is Bearer, noted; a missing lifetime is no known expiry, as RFC 6749 allows, not noted")
    func missingTypeAndLifetime() throws {
        let grant = try Self.parse(#"{"access_token": "at-2", "refresh_token": "rt-2"}"#)
        #expect(grant.tokenType == "Bearer")
        #expect(grant.expiresAt == nil)
        #expect(grant.refreshToken == "rt-2")
        #expect(grant.oddities == ["no token_type: taken as Bearer"])
    }

    @Test("a refresh_token that is not a string is ignored (the caller keeps its own), and an array scope is read")
    func oddRefreshAndScope() throws {
        let grant = try Self.parse(#"{"access_token": "a", "token_type": "bearer", "refresh_token": 5, "scope": ["b", "a"]}"#)
        #expect(grant.refreshToken == nil)
        #expect(grant.scopes == ["b", "a"])
        #expect(grant.oddities == ["refresh_token is integer, not a string: ignored", "scope is an array, not a space-joined string"])
    }

    @Test("a 200 answer carrying an OAuth error is that error")
    func errorIn200() throws {
        let error = try #require(Self.failure("{\"error\": \"invalid_grant\", \"error_description\": \"expired\"}"))
        #expect(error.kind == .invalidGrant)
        #expect(error.code == "invalid_grant")
    }

    @Test("5xx and 429 answers are transient", arguments: [500, 502, 503, 504, 429])
    func transientStatuses(status: Int) {
        let error = OAuthError.fromResponse(status: status, body: Array("<html>busy</html>".utf8))
        #expect(error.kind == .transient)
        #expect(error.status == status)
        #expect(error.code == nil)
        #expect(error.message.hasPrefix("the token endpoint answered HTTP \(status)"))
        #expect(!error.message.contains("busy"))
    }

    @Test("invalid_grant means log in again, whatever the status")
    func invalidGrant() {
        let body = Array("{\"error\": \"invalid_grant\", \"error_description\": \"Refresh token revoked\"}".utf8)
        let error = OAuthError.fromResponse(status: 400, body: body)
        #expect(error == OAuthError(kind: .invalidGrant, code: "invalid_grant",
                                    message: "the token endpoint answered HTTP 400: invalid_grant (Refresh token revoked)",
                                    status: 400))
        #expect(OAuthError.fromResponse(status: 401, body: body).kind == .invalidGrant)
        #expect(OAuthError.fromResponse(status: 503, body: body).kind == .invalidGrant)
    }

    @Test("other OAuth errors are rejected, with the error and its description in the message")
    func rejected() {
        let body = Array("{\"error\": \"invalid_client\", \"error_description\": \"Client authentication failed\"}".utf8)
        let error = OAuthError.fromResponse(status: 401, body: body, endpoint: "token endpoint https://a.example/token")
        #expect(error.kind == .rejected)
        #expect(error.code == "invalid_client")
        #expect(error.status == 401)
        #expect(error.message
            == "token endpoint https://a.example/token answered HTTP 401: invalid_client (Client authentication failed)")
        #expect(error.description == error.message)
    }

    @Test("a 4xx without an OAuth body is rejected without quoting the body")
    func rejectedWithoutBody() {
        let error = OAuthError.fromResponse(status: 404, body: Array("echo: refresh_token=rt-secret".utf8))
        #expect(error.kind == .rejected)
        #expect(error.code == nil)
        #expect(error.message == "the token endpoint answered HTTP 404")
    }

    @Test("a provider's description is made one short line")
    func sanitizedDescription() {
        let long = String(repeating: "x", count: 1000)
        let body = Array("{\"error\": \"invalid_request\", \"error_description\": \"line one\\nline two \(long)\"}".utf8)
        let error = OAuthError.fromResponse(status: 400, body: body)
        #expect(!error.message.contains("\n"))
        #expect(error.message.contains("line one line two"))
        #expect(error.message.count < 400)
    }
}
