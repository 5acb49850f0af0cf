import AgentCrypto
import AgentPOSIX
import AgentProtocol
import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Speaks to one provider's token endpoint (RFC 6749 §3.2, with RFC 7636's verifier) and
/// revocation endpoint (RFC 7009).
///
/// This is the only part of the OAuth module that needs Foundation: HTTPS is not worth
/// writing by hand. The API is synchronous because the agent calls it from worker threads
/// and never from its poll loop, which must not block.
///
/// Transient failures (no connection, a time-out, 5xx, 429) are retried with exponential
/// backoff, `maxAttempts` attempts in all, because a refresh that fails for a blip would
/// otherwise send a user back to the login page. A dead grant (`invalid_grant`) or any
/// other error is final and returned at once: retrying cannot change it, and retrying a
/// rotated refresh token could even get a whole token family revoked.
///
/// Redirects are not followed: a token endpoint has no reason to redirect, and following
/// one would send a code or refresh token to wherever it pointed.
public final class TokenEndpointClient: @unchecked Sendable {
    // Safe to share between threads: every stored property is immutable after init, except
    // the attempt counter, which only changes under `lock`; URLSession is thread-safe.
    public let provider: ProviderConfiguration
    public let timeoutSeconds: Double
    public let maxAttempts: Int
    public let initialBackoffMilliseconds: Int
    private let session: URLSession
    private let lock = NSLock()
    private var attempts = 0

    /// Backoff never grows past this, whatever `maxAttempts` is.
    private static let maximumBackoffMilliseconds = 8_000

    public init(provider: ProviderConfiguration, timeoutSeconds: Double = 10, maxAttempts: Int = 3,
                initialBackoffMilliseconds: Int = 250) {
        self.provider = provider
        self.timeoutSeconds = timeoutSeconds > 0 ? timeoutSeconds : 10
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoffMilliseconds = max(0, initialBackoffMilliseconds)
        // Ephemeral: nothing of these exchanges (tokens, cookies, cached answers) may
        // reach the disk or outlive the process.
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = self.timeoutSeconds
        configuration.timeoutIntervalForResource = self.timeoutSeconds
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCredentialStorage = nil
        session = URLSession(configuration: configuration, delegate: RedirectRefuser(), delegateQueue: nil)
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    /// How many HTTP requests this client has sent, retries included (for tests and logs).
    public var attemptCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return attempts
    }

    /// The authorization_code grant with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5): sends
    /// `grant_type`, `code`, `redirect_uri`, `client_id`, `code_verifier`, and `state` when
    /// given, which Claude's endpoint requires and RFC 6749 endpoints ignore. A configured
    /// client secret goes in HTTP Basic. `now` is read when the answer arrives, to make
    /// `expires_in` absolute.
    public func exchange(code: String, codeVerifier: String, redirectURI: String, state: String?,
                         now: @escaping () -> Int64) throws(OAuthError) -> TokenGrant {
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                      ("client_id", provider.clientID), ("code_verifier", codeVerifier)]
        if let state { fields.append(("state", state)) }
        return try requestGrant(fields, now: now)
    }

    /// The refresh_token grant (RFC 6749 §6): `grant_type`, `refresh_token`, `client_id`,
    /// and `scope` when scopes are given (to narrow the new token; nil keeps the old scopes).
    public func refresh(refreshToken: String, scopes: [String]?, now: @escaping () -> Int64) throws(OAuthError) -> TokenGrant {
        var fields = [("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", provider.clientID)]
        if let scopes, !scopes.isEmpty { fields.append(("scope", Scopes.joined(scopes))) }
        return try requestGrant(fields, now: now)
    }

    /// RFC 7009 revocation: `token`, `token_type_hint`, `client_id`. Revoking the refresh
    /// token ends the whole grant at providers that implement it. Throws `rejected` when
    /// the provider has no revocation endpoint configured.
    public func revoke(token: String, hint: String = "refresh_token") throws(OAuthError) {
        guard let endpoint = provider.revocationURL else {
            throw OAuthError(kind: .rejected, code: nil,
                             message: "provider \(provider.name) has no revocation endpoint (revocation_url)", status: nil)
        }
        let fields = [("token", token), ("token_type_hint", hint), ("client_id", provider.clientID)]
        _ = try post(fields, to: endpoint, name: "revocation endpoint \(endpoint)")
    }

    private func requestGrant(_ fields: [(String, String)], now: () -> Int64) throws(OAuthError) -> TokenGrant {
        let body = try post(fields, to: provider.tokenURL, name: "token endpoint \(provider.tokenURL)")
        return try TokenGrant.parse(body, now: now())
    }

    /// POSTs `fields` in the provider's encoding and returns the body of a 2xx answer.
    /// A transient failure (no answer, 5xx, 429) is retried while attempts remain, then
    /// thrown as `transient`; any other answer is thrown at once, mapped by
    /// `OAuthError.fromResponse` (so an `invalid_grant` is never retried, whatever its status).
    private func post(_ fields: [(String, String)], to endpoint: String, name: String) throws(OAuthError) -> [UInt8] {
        let request = try makeRequest(fields, to: endpoint, name: name)
        var backoff = initialBackoffMilliseconds
        var attempt = 1
        while true {
            lock.lock()
            attempts += 1
            lock.unlock()
            let count = attempt == 1 ? "1 attempt" : "\(attempt) attempts"
            switch send(request) {
            case .answered(let status, let body):
                if (200..<300).contains(status) { return body }
                var error = OAuthError.fromResponse(status: status, body: body, endpoint: name)
                guard error.kind == .transient else { throw error }
                if attempt >= maxAttempts {
                    error.message += " (\(count))"
                    throw error
                }
            case .failed(let reason):
                if attempt >= maxAttempts {
                    throw OAuthError(kind: .transient, code: nil, message: "\(name) unreachable: \(reason) (\(count))", status: nil)
                }
            }
            Clock.sleep(milliseconds: Int64(backoff))
            backoff = min(backoff * 2, Self.maximumBackoffMilliseconds)
            attempt += 1
        }
    }

    private func makeRequest(_ fields: [(String, String)], to endpoint: String, name: String) throws(OAuthError) -> URLRequest {
        guard AgentSettings.isHTTPURL(endpoint), let url = URL(string: endpoint) else {
            throw OAuthError(kind: .rejected, code: nil, message: "\(name) is not a valid http or https URL", status: nil)
        }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalAndRemoteCacheData, timeoutInterval: timeoutSeconds)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue(provider.userAgent, forHTTPHeaderField: "User-Agent")
        switch provider.tokenRequestEncoding {
        case .form:
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(PercentEncoding.formEncode(fields).utf8)
        case .json:
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(JSONValue.object(JSONObject(fields.map { ($0.0, JSONValue.string($0.1)) })).serialized())
        }
        if let secret = provider.clientSecret {
            // RFC 6749 §2.3.1: both parts form-encoded, then joined with ":" and base64ed.
            let credentials = PercentEncoding.encode(provider.clientID) + ":" + PercentEncoding.encode(secret)
            request.setValue("Basic " + Base64.encode(Array(credentials.utf8)), forHTTPHeaderField: "Authorization")
        }
        return request
    }

    private enum Outcome {
        case answered(Int, [UInt8])
        /// A transport failure, described for people.
        case failed(String)
    }

    /// One HTTP exchange, waited for on the calling thread.
    private func send(_ request: URLRequest) -> Outcome {
        let box = OutcomeBox()
        let done = DispatchSemaphore(value: 0)
        let timeout = timeoutSeconds
        let task = session.dataTask(with: request) { data, response, error in
            if let error {
                box.set(.failed(Self.describe(error, timeoutSeconds: timeout)))
            } else if let response = response as? HTTPURLResponse {
                box.set(.answered(response.statusCode, [UInt8](data ?? Data())))
            } else {
                box.set(.failed("an answer that is not HTTP"))
            }
            done.signal()
        }
        task.resume()
        // URLSession enforces the time-out itself; this deadline only guards against a
        // completion handler that never comes, which would otherwise hang a worker forever.
        if done.wait(timeout: .now() + timeout + 2) == .timedOut {
            task.cancel()
            _ = done.wait(timeout: .now() + 2)
            return .failed(Self.timedOut(timeout))
        }
        return box.get() ?? .failed("no answer")
    }

    /// Transport errors in words a person can act on, rather than Foundation's
    /// "The operation could not be completed".
    private static func describe(_ error: any Error, timeoutSeconds: Double) -> String {
        guard let urlError = error as? URLError else { return error.localizedDescription }
        switch urlError.code {
        case .cannotConnectToHost: return "connection refused"
        case .timedOut: return timedOut(timeoutSeconds)
        case .cannotFindHost, .dnsLookupFailed: return "host not found"
        case .networkConnectionLost: return "connection lost"
        case .notConnectedToInternet: return "no network"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            return "TLS handshake failed"
        case .badServerResponse: return "a malformed HTTP answer"
        default: return urlError.localizedDescription
        }
    }

    private static func timedOut(_ seconds: Double) -> String {
        let text = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
        return "timed out after \(text) s"
    }

    /// Carries the answer from URLSession's queue to the waiting thread. Locked because the
    /// waiter may give up (and read) while a late completion handler writes.
    private final class OutcomeBox: @unchecked Sendable {
        private let lock = NSLock()
        private var outcome: Outcome?

        func set(_ value: Outcome) {
            lock.lock()
            defer { lock.unlock() }
            outcome = value
        }

        func get() -> Outcome? {
            lock.lock()
            defer { lock.unlock() }
            return outcome
        }
    }
}

/// Answers every redirect with "do not follow", so the 3xx itself becomes the answer.
private final class RedirectRefuser: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    // Stateless.
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
