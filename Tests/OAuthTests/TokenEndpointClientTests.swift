import AgentCrypto
import AgentProtocol
import OAuth
import Testing

@Suite("Token endpoint client against a scripted endpoint")
struct TokenEndpointClientTests {
    static let now: Int64 = 1_795_000_000

    static func provider(_ tokenURL: String, encoding: TokenRequestEncoding = .form, secret: String? = nil,
                         revocationURL: String? = nil) -> ProviderConfiguration {
        ProviderConfiguration(name: "test", clientID: "test-client", authorizeURL: "http://127.0.0.1/authorize",
                              tokenURL: tokenURL, revocationURL: revocationURL, scopes: ["user:inference"],
                              clientSecret: secret, tokenRequestEncoding: encoding, userAgent: "oauth-tests/1.0")
    }

    /// A client that retries quickly, so the retry tests take milliseconds.
    static func client(_ provider: ProviderConfiguration, timeout: Double = 5, attempts: Int = 3) -> TokenEndpointClient {
        TokenEndpointClient(provider: provider, timeoutSeconds: timeout, maxAttempts: attempts, initialBackoffMilliseconds: 10)
    }

    /// The OAuthError `body` throws; records an issue when it succeeds or throws another error.
    static func failure(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> OAuthError? {
        do {
            try body()
            Issue.record("succeeded, but should have failed", sourceLocation: sourceLocation)
            return nil
        } catch let error as OAuthError {
            return error
        } catch {
            Issue.record("threw \(error), not an OAuthError", sourceLocation: sourceLocation)
            return nil
        }
    }

    static func fields(_ record: JSONObject) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in record["fields"]?.objectValue ?? JSONObject() { result[key] = value.stringValue ?? "<\(value.typeName)>" }
        return result
    }

    @Test("the code exchange sends every PKCE field form-encoded, with the headers, and parses the grant")
    func exchangeForm() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key)))
        let grant = try client.exchange(code: "the code+/&=", codeVerifier: "verifier-123", redirectURI: "http://127.0.0.1:5555/callback",
                                        state: "state-xyz", now: { Self.now })
        #expect(grant == TokenGrant(accessToken: "at-\(key)-1", refreshToken: "rt-\(key)-1", expiresAt: Self.now + 3600,
                                    tokenType: "Bearer", scopes: ["user:inference", "user:profile"]))
        #expect(client.attemptCount == 1)
        let log = try server.log(key: key)
        try #require(log.count == 1)
        #expect(log[0]["path"]?.stringValue == "/o/token/")
        #expect(log[0]["content_type"]?.stringValue == "application/x-www-form-urlencoded")
        #expect(log[0]["accept"]?.stringValue == "application/json")
        #expect(log[0]["user_agent"]?.stringValue == "oauth-tests/1.0")
        #expect(log[0]["authorization"]?.isNull == true)
        #expect(Self.fields(log[0]) == ["grant_type": "authorization_code", "code": "the code+/&=",
                                        "redirect_uri": "http://127.0.0.1:5555/callback", "client_id": "test-client",
                                        "code_verifier": "verifier-123", "state": "state-xyz"])
    }

    @Test("a JSON provider gets the same fields as a JSON object; no state is sent when none is given")
    func exchangeJSON() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key), encoding: .json))
        _ = try client.exchange(code: "c", codeVerifier: "v", redirectURI: "http://localhost:1/cb", state: nil, now: { Self.now })
        let log = try server.log(key: key)
        try #require(log.count == 1)
        #expect(log[0]["content_type"]?.stringValue == "application/json")
        #expect(Self.fields(log[0]) == ["grant_type": "authorization_code", "code": "c", "redirect_uri": "http://localhost:1/cb",
                                        "client_id": "test-client", "code_verifier": "v"])
    }

    @Test("a client secret is sent with HTTP Basic")
    func clientSecret() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key), secret: "s3cret"))
        _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now })
        let log = try server.log(key: key)
        #expect(log.first?["authorization"]?.stringValue == "Basic " + Base64.encode(Array("test-client:s3cret".utf8)))
    }

    @Test("a refresh sends the refresh token and the scopes asked for, space-joined")
    func refreshFields() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key)))
        let grant = try client.refresh(refreshToken: "rt-old", scopes: ["user:inference", "user:profile"], now: { Self.now + 1 })
        #expect(grant.accessToken == "at-\(key)-1")
        #expect(grant.expiresAt == Self.now + 1 + 3600)
        _ = try client.refresh(refreshToken: "rt-old", scopes: nil, now: { Self.now })
        let log = try server.log(key: key)
        try #require(log.count == 2)
        #expect(Self.fields(log[0]) == ["grant_type": "refresh_token", "refresh_token": "rt-old", "client_id": "test-client",
                                        "scope": "user:inference user:profile"])
        #expect(Self.fields(log[1]) == ["grant_type": "refresh_token", "refresh_token": "rt-old", "client_id": "test-client"])
    }

    @Test("5xx answers are retried and a later success is returned")
    func retryThenSuccess() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=fail&times=2&status=500")))
        let grant = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now })
        #expect(grant.accessToken == "at-\(key)-3")
        #expect(client.attemptCount == 3)
        #expect(try server.log(key: key).count == 3)
    }

    @Test("a 429 answer is retried")
    func retry429() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=fail&times=1&status=429")))
        #expect(try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }).accessToken == "at-\(key)-2")
        #expect(client.attemptCount == 2)
    }

    @Test("an endpoint that keeps failing is transient after maxAttempts attempts")
    func alwaysUnavailable() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let url = server.tokenURL(key: key, "mode=always&status=503")
        let client = Self.client(Self.provider(url))
        let error = try #require(Self.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }) })
        #expect(error.kind == .transient)
        #expect(error.status == 503)
        #expect(error.message == "token endpoint \(url) answered HTTP 503: server error (3 attempts)")
        #expect(client.attemptCount == 3)
        #expect(try server.log(key: key).count == 3)
    }

    @Test("invalid_grant is not retried")
    func invalidGrantNotRetried() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=error&error=invalid_grant&description=revoked")))
        let error = try #require(Self.failure { _ = try client.refresh(refreshToken: "rt-dead", scopes: nil, now: { Self.now }) })
        #expect(error.kind == .invalidGrant)
        #expect(error.code == "invalid_grant")
        #expect(error.status == 400)
        #expect(error.message.contains("invalid_grant (revoked)"))
        #expect(!error.message.contains("rt-dead"))
        #expect(client.attemptCount == 1)
    }

    @Test("invalid_grant with a 5xx status is not retried either")
    func invalidGrant503() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=error&error=invalid_grant&status=503")))
        let error = try #require(Self.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }) })
        #expect(error.kind == .invalidGrant)
        #expect(client.attemptCount == 1)
    }

    @Test("another OAuth error is rejected at once, with its description")
    func rejectedNotRetried() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=error&error=invalid_client&status=401&description=bad%20client")))
        let error = try #require(Self.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }) })
        #expect(error.kind == .rejected)
        #expect(error.code == "invalid_client")
        #expect(error.status == 401)
        #expect(error.message.hasSuffix("answered HTTP 401: invalid_client (bad client)"))
        #expect(client.attemptCount == 1)
    }

    @Test("a 200 answer that is not JSON is malformed and not retried")
    func malformedAnswer() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=malformed")))
        let error = try #require(Self.failure {
            _ = try client.exchange(code: "c", codeVerifier: "v", redirectURI: "http://127.0.0.1:1/", state: nil, now: { Self.now })
        })
        #expect(error.kind == .malformed)
        #expect(client.attemptCount == 1)
    }

    @Test("an endpoint slower than the time-out is transient after the attempts")
    func slowEndpoint() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=slow&delay=4")), timeout: 0.5, attempts: 2)
        let error = try #require(Self.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }) })
        #expect(error.kind == .transient)
        #expect(error.message.contains("unreachable: timed out after 0.5 s (2 attempts)"), "\(error.message)")
        #expect(client.attemptCount == 2)
    }

    @Test("a refused connection is transient after the attempts, and says so")
    func connectionRefused() throws {
        let server = try FakeTokenEndpoint.start()
        let url = "http://127.0.0.1:\(server.closedPort)/o/token/"
        let client = Self.client(Self.provider(url))
        let error = try #require(Self.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }) })
        #expect(error.kind == .transient)
        #expect(error.status == nil)
        #expect(error.message == "token endpoint \(url) unreachable: connection refused (3 attempts)")
        #expect(client.attemptCount == 3)
    }

    @Test("a redirect is not followed, so the code never goes elsewhere")
    func redirectNotFollowed() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=redirect")))
        let error = try #require(Self.failure {
            _ = try client.exchange(code: "c", codeVerifier: "v", redirectURI: "http://127.0.0.1:1/", state: nil, now: { Self.now })
        })
        #expect(error.kind == .rejected)
        #expect(error.status == 307)
        #expect(try server.log(key: key).map { $0["path"]?.stringValue } == ["/o/token/"])
    }

    @Test("revocation sends the token, its type hint and the client id")
    func revoke() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let revocation = "http://127.0.0.1:\(server.port)/o/revoke_token/?key=\(key)&mode=empty"
        let client = Self.client(Self.provider(server.tokenURL(key: key), revocationURL: revocation))
        try client.revoke(token: "rt-1", hint: "refresh_token")
        let log = try server.log(key: key)
        try #require(log.count == 1)
        #expect(log[0]["path"]?.stringValue == "/o/revoke_token/")
        #expect(Self.fields(log[0]) == ["token": "rt-1", "token_type_hint": "refresh_token", "client_id": "test-client"])
    }

    @Test("revocation without a revocation_url is rejected without a request")
    func revokeUnconfigured() throws {
        let client = Self.client(Self.provider("http://127.0.0.1:1/token"))
        let error = try #require(Self.failure { try client.revoke(token: "rt", hint: "refresh_token") })
        #expect(error.kind == .rejected)
        #expect(error.message.contains("revocation_url"))
        #expect(client.attemptCount == 0)
    }

    @Test("a failing revocation endpoint is transient after the attempts")
    func revokeUnavailable() throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let revocation = "http://127.0.0.1:\(server.port)/o/revoke_token/?key=\(key)&mode=always&status=503"
        let client = Self.client(Self.provider(server.tokenURL(key: key), revocationURL: revocation), attempts: 2)
        let error = try #require(Self.failure { try client.revoke(token: "rt", hint: "refresh_token") })
        #expect(error.kind == .transient)
        #expect(error.message.hasPrefix("revocation endpoint \(revocation) answered HTTP 503"))
        #expect(client.attemptCount == 2)
    }

    @Test("an endpoint that is not an http URL is rejected without a request")
    func invalidURL() {
        let client = Self.client(Self.provider("file:///etc/passwd"))
        let error = Self.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }) }
        #expect(error?.kind == .rejected)
        #expect(client.attemptCount == 0)
    }
}
