import AgentCrypto
import AgentProtocol
import AgentTransport
import FoundationTransport
import OAuth
import Testing

/// What carries the client's requests: the agent's way (a claude-agent-fetch child per
/// exchange) and URLSession in this process, which the helper runs; both must behave
/// the same.
enum Carrier: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case helper = "claude-agent-fetch"
    case inProcess = "URLSession in process"
    /// The agent's own HTTP/1.1 for loopback URLs (the scripted endpoint is on 127.0.0.1);
    /// a request that is not for loopback would go to the helper.
    case loopback = "loopback HTTP in process"

    var transport: any HTTPTransport {
        switch self {
        case .helper: return HelperTransport(path: BuiltHelper.path)
        case .inProcess: return URLSessionTransport()
        case .loopback: return LoopbackOnly()
        }
    }

    var testDescription: String { rawValue }
}

/// The loopback transport with a remote that fails loudly, so a test passes only if the
/// in-process client carried the request itself.
struct LoopbackOnly: HTTPTransport {
    struct NotLoopback: HTTPTransport {
        func send(_ exchange: HTTPExchange) -> HTTPOutcome { .transportFailed("not sent in process: \(exchange.url)") }
    }
    let inner = LoopbackTransport(remote: NotLoopback())
    func send(_ exchange: HTTPExchange) -> HTTPOutcome { inner.send(exchange) }
}

@Suite("Token endpoint client against a scripted endpoint")
struct TokenEndpointClientTests {
    static let now: Int64 = 1_795_000_000

    static func provider(_ tokenEndpoint: String, encoding: TokenRequestEncoding = .form, secret: String? = nil,
                         revocationEndpoint: String? = nil) -> ProviderConfiguration {
        ProviderConfiguration(name: "test", clientID: "test-client", authorizationEndpoint: "http://127.0.0.1/authorize",
                              tokenEndpoint: tokenEndpoint, revocationEndpoint: revocationEndpoint, scopes: ["user:inference"],
                              clientSecret: secret, tokenRequestEncoding: encoding, userAgent: "oauth-tests/1.0")
    }

    /// A client that retries quickly, so the retry tests take milliseconds.
    static func client(_ provider: ProviderConfiguration, _ carrier: Carrier, timeoutMilliseconds: Int64 = 5_000,
                       attempts: Int = 3) -> TokenEndpointClient {
        TokenEndpointClient(provider: provider, transport: carrier.transport, timeoutMilliseconds: timeoutMilliseconds, maxAttempts: attempts,
                            initialBackoffMilliseconds: 10)
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

    @Test("the code exchange sends every PKCE field form-encoded, with the headers, and parses the grant", arguments: Carrier.allCases)
    func exchangeForm(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key)), carrier)
        let grant = try client.exchange(code: "the code+/&=", codeVerifier: "verifier-123", redirectURI: "http://127.0.0.1:5555/callback",
                                        state: "state-xyz", now: { Self.now })
        #expect(grant == AccessTokenResponse(accessToken: "at-\(key)-1", refreshToken: "rt-\(key)-1", expiresAt: Self.now + 3600,
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

    @Test("a JSON provider gets the same fields as a JSON object; no state is sent when none is given", arguments: Carrier.allCases)
    func exchangeJSON(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key), encoding: .json), carrier)
        _ = try client.exchange(code: "c", codeVerifier: "v", redirectURI: "http://localhost:1/cb", state: nil, now: { Self.now })
        let log = try server.log(key: key)
        try #require(log.count == 1)
        #expect(log[0]["content_type"]?.stringValue == "application/json")
        #expect(Self.fields(log[0]) == ["grant_type": "authorization_code", "code": "c", "redirect_uri": "http://localhost:1/cb",
                                        "client_id": "test-client", "code_verifier": "v"])
    }

    @Test("a client secret is sent with HTTP Basic", arguments: Carrier.allCases)
    func clientSecret(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key), secret: "s3cret"), carrier)
        _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now })
        let log = try server.log(key: key)
        #expect(log.first?["authorization"]?.stringValue == "Basic " + Base64.encode(Array("test-client:s3cret".utf8)))
    }

    @Test("a refresh sends the refresh token and the scopes asked for, space-joined", arguments: Carrier.allCases)
    func refreshFields(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key)), carrier)
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

    @Test("a refresh that got a 5xx is not sent again: the provider may have used the refresh token up", arguments: Carrier.allCases)
    func refresh5xxNotResent(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let url = server.tokenURL(key: key, "mode=fail&times=2&status=500")
        let client = Self.client(Self.provider(url), carrier)
        let error = try #require(Self.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }) })
        #expect(error.kind == .transient)
        #expect(error.mayHaveArrived)
        #expect(error.message == "token endpoint \(url) answered HTTP 500: server_error (1 attempt)")
        #expect(client.attemptCount == 1)
        #expect(try server.log(key: key).count == 1)
    }

    @Test("a 429 answer to a code exchange is not sent again either: codes are single-use", arguments: Carrier.allCases)
    func exchange429NotResent(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=fail&times=1&status=429")), carrier)
        let error = try #require(Self.failure {
            _ = try client.exchange(code: "c", codeVerifier: "v", redirectURI: "http://127.0.0.1:1/", state: nil, now: { Self.now })
        })
        #expect(error.status == 429)
        #expect(error.mayHaveArrived)
        #expect(client.attemptCount == 1)
    }

    @Test("an endpoint that keeps failing is one transient attempt for a refresh", arguments: Carrier.allCases)
    func alwaysUnavailable(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let url = server.tokenURL(key: key, "mode=always&status=503")
        let client = Self.client(Self.provider(url), carrier)
        let error = try #require(Self.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }) })
        #expect(error.kind == .transient)
        #expect(error.status == 503)
        #expect(error.message == "token endpoint \(url) answered HTTP 503: server error (1 attempt)")
        #expect(client.attemptCount == 1)
        #expect(try server.log(key: key).count == 1)
    }

    @Test("invalid_grant is not retried", arguments: Carrier.allCases)
    func invalidGrantNotRetried(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=error&error=invalid_grant&description=revoked")), carrier)
        let error = try #require(Self.failure { _ = try client.refresh(refreshToken: "rt-dead", scopes: nil, now: { Self.now }) })
        #expect(error.kind == .invalidGrant)
        #expect(error.code == "invalid_grant")
        #expect(error.status == 400)
        #expect(error.message.contains("invalid_grant (revoked)"))
        #expect(!error.message.contains("rt-dead"))
        #expect(client.attemptCount == 1)
    }

    @Test("invalid_grant with a 5xx status is not retried either", arguments: Carrier.allCases)
    func invalidGrant503(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=error&error=invalid_grant&status=503")), carrier)
        let error = try #require(Self.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }) })
        #expect(error.kind == .invalidGrant)
        #expect(client.attemptCount == 1)
    }

    @Test("another OAuth error is rejected at once, with its description", arguments: Carrier.allCases)
    func rejectedNotRetried(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=error&error=invalid_client&status=401&description=bad%20client")), carrier)
        let error = try #require(Self.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }) })
        #expect(error.kind == .rejected)
        #expect(error.code == "invalid_client")
        #expect(error.status == 401)
        #expect(error.message.hasSuffix("answered HTTP 401: invalid_client (bad client)"))
        #expect(client.attemptCount == 1)
    }

    @Test("a 200 answer that is not JSON is malformed and not retried", arguments: Carrier.allCases)
    func malformedAnswer(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=malformed")), carrier)
        let error = try #require(Self.failure {
            _ = try client.exchange(code: "c", codeVerifier: "v", redirectURI: "http://127.0.0.1:1/", state: nil, now: { Self.now })
        })
        #expect(error.kind == .malformed)
        #expect(client.attemptCount == 1)
    }

    @Test("a refresh slower than the time-out is not sent again, and says why", arguments: Carrier.allCases)
    func slowEndpoint(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=slow&delay=4")), carrier, timeoutMilliseconds: 500, attempts: 2)
        let error = try #require(Self.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }) })
        #expect(error.kind == .transient)
        #expect(error.mayHaveArrived)
        #expect(error.message.contains("unreachable: timed out after 0.5 s (1 attempt; not sent again, as the server may have used it)"),
                "\(error.message)")
        #expect(client.attemptCount == 1)
    }

    @Test("a slow provider that rotates on receipt and answers after 2 s is waited for: the default time-out is 30 s",
          arguments: Carrier.allCases)
    func slowRotationKept(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = TokenEndpointClient(provider: Self.provider(server.tokenURL(key: key, "mode=rotate&seed=rt-b&delay=2")),
                                         transport: carrier.transport)
        #expect(client.timeoutMilliseconds == 30_000)
        let grant = try client.refresh(refreshToken: "rt-b", scopes: nil, now: { Self.now })
        #expect(grant.refreshToken == "rt-1")
        #expect(try server.log(key: key).count == 1)
    }

    @Test("a refused connection never left, so it is retried, and says so after the attempts", arguments: Carrier.allCases)
    func connectionRefused(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let url = "http://127.0.0.1:\(server.closedPort)/o/token/"
        let client = Self.client(Self.provider(url), carrier)
        let error = try #require(Self.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }) })
        #expect(error.kind == .transient)
        #expect(error.status == nil)
        #expect(!error.mayHaveArrived)
        #expect(error.message == "token endpoint \(url) unreachable: connection refused (3 attempts)")
        #expect(client.attemptCount == 3)
    }

    @Test("a redirect is not followed, so the code never goes elsewhere", arguments: Carrier.allCases)
    func redirectNotFollowed(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let client = Self.client(Self.provider(server.tokenURL(key: key, "mode=redirect")), carrier)
        let error = try #require(Self.failure {
            _ = try client.exchange(code: "c", codeVerifier: "v", redirectURI: "http://127.0.0.1:1/", state: nil, now: { Self.now })
        })
        #expect(error.kind == .rejected)
        #expect(error.status == 307)
        #expect(try server.log(key: key).map { $0["path"]?.stringValue } == ["/o/token/"])
    }

    @Test("revocation sends the token, its type hint and the client id", arguments: Carrier.allCases)
    func revoke(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let revocation = "http://127.0.0.1:\(server.port)/o/revoke_token/?key=\(key)&mode=empty"
        let client = Self.client(Self.provider(server.tokenURL(key: key), revocationEndpoint: revocation), carrier)
        try client.revoke(token: "rt-1", hint: "refresh_token")
        let log = try server.log(key: key)
        try #require(log.count == 1)
        #expect(log[0]["path"]?.stringValue == "/o/revoke_token/")
        #expect(Self.fields(log[0]) == ["token": "rt-1", "token_type_hint": "refresh_token", "client_id": "test-client"])
    }

    @Test("revocation without a revocation_url is rejected without a request", arguments: Carrier.allCases)
    func revokeUnconfigured(carrier: Carrier) throws {
        let client = Self.client(Self.provider("http://127.0.0.1:1/token"), carrier)
        let error = try #require(Self.failure { try client.revoke(token: "rt", hint: "refresh_token") })
        #expect(error.kind == .rejected)
        #expect(error.message.contains("revocation_url"))
        #expect(client.attemptCount == 0)
    }

    @Test("revocation is idempotent, so a 5xx is retried and a later success returned", arguments: Carrier.allCases)
    func revokeRetried(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let revocation = "http://127.0.0.1:\(server.port)/o/revoke_token/?key=\(key)&mode=fail&times=2&status=500"
        let client = Self.client(Self.provider(server.tokenURL(key: key), revocationEndpoint: revocation), carrier)
        try client.revoke(token: "rt-1", hint: "refresh_token")
        #expect(client.attemptCount == 3)
    }

    @Test("a failing revocation endpoint is transient after the attempts", arguments: Carrier.allCases)
    func revokeUnavailable(carrier: Carrier) throws {
        let server = try FakeTokenEndpoint.start()
        let key = FakeTokenEndpoint.newKey()
        let revocation = "http://127.0.0.1:\(server.port)/o/revoke_token/?key=\(key)&mode=always&status=503"
        let client = Self.client(Self.provider(server.tokenURL(key: key), revocationEndpoint: revocation), carrier, attempts: 2)
        let error = try #require(Self.failure { try client.revoke(token: "rt", hint: "refresh_token") })
        #expect(error.kind == .transient)
        #expect(error.message.hasPrefix("revocation endpoint \(revocation) answered HTTP 503"))
        #expect(client.attemptCount == 2)
    }

    @Test("an endpoint that is not an http URL is rejected without a request", arguments: Carrier.allCases)
    func invalidURL(carrier: Carrier) {
        let client = Self.client(Self.provider("file:///etc/passwd"), carrier)
        let error = Self.failure { _ = try client.refresh(refreshToken: "rt", scopes: nil, now: { Self.now }) }
        #expect(error?.kind == .rejected)
        #expect(client.attemptCount == 0)
    }
}
