import AgentCrypto
import AgentPOSIX
import AgentProtocol
import AgentTransport
import Synchronization

/// Speaks to one provider's token endpoint (RFC 6749 §3.2, with RFC 7636's verifier) and
/// revocation endpoint (RFC 7009).
///
/// It builds each request and judges each answer; an `HTTPTransport` carries them (in
/// the agent, `HelperTransport`, which runs a short-lived `claude-agent-fetch` per
/// exchange so the agent itself links no HTTP or TLS code). The API is synchronous
/// because the agent calls it from worker threads and never from its poll loop, which
/// must not block.
///
/// A request that provably never left (connection refused, no such host, no network) is
/// retried with exponential backoff, `maxAttempts` attempts in all, because a refresh
/// that fails for a blip would otherwise send a user back to the login page. A refresh
/// token or an authorization code that may have reached the server (a time-out after
/// sending, a 5xx or 429, an answer lost) is **never sent again** by this client: a
/// rotating provider may have used it up already and answered into the void, and a
/// second use gets `invalid_grant` at best and the whole token family revoked at worst
/// (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP §4.14.2). Such a failure is thrown with
/// `mayHaveArrived`, and the caller decides when to try again. Revocation (RFC 7009) is
/// idempotent, so it is retried on any transient failure. A dead grant (`invalid_grant`)
/// or any other error is final and returned at once. A transport that cannot send at all
/// (the helper is missing) is transient but not retried at once: only fixing the
/// installation helps.
///
/// Redirects are not followed: a token endpoint has no reason to redirect, and following
/// one would send a code or refresh token to wherever it pointed.
public final class TokenEndpointClient: Sendable {
    public let provider: ProviderConfiguration
    public let transport: any HTTPTransport
    /// Each attempt's time-out, connection to last byte, in milliseconds.
    public let timeoutMilliseconds: Int64
    /// Attempts in all for a request that may be retried (see above); at least one.
    public let maxAttempts: Int
    /// The pause before the first retry, doubled before each next one.
    public let initialBackoffMilliseconds: Int64
    private let attempts = Mutex(0)

    /// Backoff never grows past this, whatever `maxAttempts` is.
    private static let maximumBackoffMilliseconds: Int64 = 8_000

    /// Each attempt's time-out when none is configured, in milliseconds (30 s): long enough
    /// for a slow provider that rotates on receipt and answers late (a shorter one loses
    /// the rotation).
    public static let defaultTimeoutMilliseconds = NumberRange.defaultRefreshTimeoutSeconds * 1000

    /// Attempts in all when none is configured: a blip (a dropped connection, a resolver
    /// hiccup) passes within three tries and about a second of backoff, and a provider
    /// that is really down is reported without keeping the user waiting.
    public static let defaultMaxAttempts = 3

    /// The first retry's pause when none is configured, in milliseconds; doubled before
    /// each next one (250, 500, … up to `maximumBackoffMilliseconds`).
    public static let defaultInitialBackoffMilliseconds: Int64 = 250

    /// - Parameter timeoutMilliseconds: each attempt's time-out, connection to last byte;
    ///   zero or less is the default, and the transports cap it at
    ///   `HTTPExchange.maximumTimeoutMilliseconds`.
    public init(provider: ProviderConfiguration, transport: any HTTPTransport = HelperTransport(),
                timeoutMilliseconds: Int64 = TokenEndpointClient.defaultTimeoutMilliseconds,
                maxAttempts: Int = TokenEndpointClient.defaultMaxAttempts,
                initialBackoffMilliseconds: Int64 = TokenEndpointClient.defaultInitialBackoffMilliseconds) {
        self.provider = provider
        self.transport = transport
        self.timeoutMilliseconds = timeoutMilliseconds > 0 ? timeoutMilliseconds : Self.defaultTimeoutMilliseconds
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoffMilliseconds = min(max(0, initialBackoffMilliseconds), Self.maximumBackoffMilliseconds)
    }

    /// How many HTTP requests this client has sent, retries included (for tests and logs).
    public var attemptCount: Int {
        attempts.withLock { $0 }
    }

    /// The authorization_code grant with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5): sends
    /// `grant_type`, `code`, `redirect_uri`, `client_id`, `code_verifier`, and `state` when
    /// given, which Claude's endpoint requires and RFC 6749 endpoints ignore. A configured
    /// client secret goes in HTTP Basic. `now` is read when the answer arrives, to make
    /// `expires_in` absolute.
    public func exchange(code: String, codeVerifier: String, redirectURI: String, state: String?,
                         now: @escaping () -> Int64) throws(OAuthError) -> AccessTokenResponse {
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                      ("client_id", provider.clientID), ("code_verifier", codeVerifier)]
        if let state { fields.append(("state", state)) }
        return try requestGrant(fields, now: now)
    }

    /// The refresh_token grant (RFC 6749 §6): `grant_type`, `refresh_token`, `client_id`,
    /// and `scope` when scopes are given (to narrow the new token; nil keeps the old scopes).
    public func refresh(refreshToken: String, scopes: [String]?, now: @escaping () -> Int64) throws(OAuthError) -> AccessTokenResponse {
        var fields = [("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", provider.clientID)]
        if let scopes, !scopes.isEmpty { fields.append(("scope", Scopes.joined(scopes))) }
        return try requestGrant(fields, now: now)
    }

    /// RFC 7009 revocation: `token`, `token_type_hint`, `client_id`. Revoking the refresh
    /// token ends the whole grant at providers that implement it. Throws `rejected` when
    /// the provider has no revocation endpoint configured.
    public func revoke(token: String, hint: String = "refresh_token") throws(OAuthError) {
        guard let endpoint = provider.revocationEndpoint else {
            throw OAuthError(kind: .rejected, code: nil,
                             message: "provider \(provider.name) has no revocation endpoint (revocation_url)", status: nil)
        }
        let fields = [("token", token), ("token_type_hint", hint), ("client_id", provider.clientID)]
        _ = try post(fields, to: endpoint, name: "revocation endpoint \(endpoint)", idempotent: true)
    }

    private func requestGrant(_ fields: [(String, String)], now: () -> Int64) throws(OAuthError) -> AccessTokenResponse {
        let body = try post(fields, to: provider.tokenEndpoint, name: "token endpoint \(provider.tokenEndpoint)", idempotent: false)
        do throws(OAuthError) {
            return try AccessTokenResponse.parse(body, now: now())
        } catch {
            // The provider answered 2xx: whatever it granted, it may have rotated already.
            var failure = error
            failure.mayHaveArrived = true
            throw failure
        }
    }

    /// POSTs `fields` in the provider's encoding and returns the body of a 2xx answer.
    ///
    /// A request that never left (`notSent`) is retried while attempts remain. One that
    /// may have arrived (no answer, 5xx, 429) is retried only when `idempotent`; otherwise
    /// it is thrown at once as `transient` with `mayHaveArrived`. Any other answer is
    /// thrown at once, mapped by `OAuthError.fromResponse` (so an `invalid_grant` is never
    /// retried, whatever its status). A transport failure is thrown at once as `transient`.
    private func post(_ fields: [(String, String)], to endpoint: String, name: String, idempotent: Bool) throws(OAuthError) -> [UInt8] {
        var request = try makeRequest(fields, to: endpoint, name: name)
        defer { Memory.wipe(&request.body) }
        var backoff = initialBackoffMilliseconds
        var attempt = 1
        while true {
            attempts.withLock { $0 += 1 }
            let count = attempt == 1 ? "1 attempt" : "\(attempt) attempts"
            switch transport.send(request) {
            case .answered(let status, let body):
                if (200..<300).contains(status) { return body }
                var error = OAuthError.fromResponse(status: status, body: body, endpoint: name)
                guard error.kind == .transient else { throw error }
                error.mayHaveArrived = true
                if attempt >= maxAttempts || !idempotent {
                    error.message += " (\(count))"
                    throw error
                }
            case .failed(let reason):
                if attempt >= maxAttempts || !idempotent {
                    let unsafe = idempotent ? "" : "; not sent again, as the server may have used it"
                    throw OAuthError(kind: .transient, code: nil, message: "\(name) unreachable: \(reason) (\(count)\(unsafe))",
                                     status: nil, mayHaveArrived: true)
                }
            case .notSent(let reason):
                if attempt >= maxAttempts {
                    throw OAuthError(kind: .transient, code: nil, message: "\(name) unreachable: \(reason) (\(count))", status: nil)
                }
            case .transportFailed(let reason):
                throw OAuthError(kind: .transient, code: nil, message: "\(name) not reached: \(reason)", status: nil)
            }
            Clock.sleep(milliseconds: backoff)
            backoff = min(backoff.saturatingMultiplied(by: 2), Self.maximumBackoffMilliseconds)
            attempt += 1
        }
    }

    private func makeRequest(_ fields: [(String, String)], to endpoint: String, name: String) throws(OAuthError) -> HTTPExchange {
        guard ProviderConfiguration.isHTTPURL(endpoint) else {
            throw OAuthError(kind: .rejected, code: nil, message: "\(name) is not a valid http or https URL", status: nil)
        }
        var headers = [HTTPExchange.Header("Accept", "application/json"), HTTPExchange.Header("User-Agent", provider.userAgent)]
        let body: [UInt8]
        switch provider.tokenRequestEncoding {
        case .form:
            headers.append(HTTPExchange.Header("Content-Type", "application/x-www-form-urlencoded"))
            body = Array(PercentEncoding.formEncode(fields).utf8)
        case .json:
            headers.append(HTTPExchange.Header("Content-Type", "application/json"))
            body = JSONValue.object(JSONObject(fields.map { ($0.0, JSONValue.string($0.1)) })).serialized()
        }
        if let secret = provider.clientSecret {
            // RFC 6749 §2.3.1: both parts form-encoded, then joined with ":" and base64ed.
            let credentials = PercentEncoding.encode(provider.clientID) + ":" + PercentEncoding.encode(secret)
            headers.append(HTTPExchange.Header(HeaderName.authorization, "Basic " + Base64.encode(Array(credentials.utf8))))
        }
        return HTTPExchange(method: "POST", url: endpoint, headers: headers, body: body,
                            timeoutMilliseconds: timeoutMilliseconds, followsRedirects: false)
    }
}
