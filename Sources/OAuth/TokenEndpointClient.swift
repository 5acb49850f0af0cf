import AgentCrypto
import AgentPOSIX
import AgentProtocol
import Dispatch
#if canImport(FoundationNetworking)
import Foundation
import FoundationNetworking
#else
import Foundation
#endif

/// The token endpoint (RFC 6749 §3.2) and revocation endpoint (RFC 7009) of one provider.
///
/// Synchronous: the agent calls it from worker threads, never from its loop. Transient
/// failures (network, time-out, 5xx, 429) are retried with exponential backoff up to
/// `maxAttempts`; a dead grant or another error is not retried.
public final class TokenEndpointClient: @unchecked Sendable {
    // Immutable after init; URLSession is thread-safe.
    public let provider: ProviderConfiguration
    private let maxAttempts: Int
    private let initialBackoffMilliseconds: Int64
    private let timeoutSeconds: Double
    private let session: URLSession

    public init(provider: ProviderConfiguration, timeoutSeconds: Double = 10, maxAttempts: Int = 3,
                initialBackoffMilliseconds: Int = 250) {
        self.provider = provider
        self.timeoutSeconds = timeoutSeconds
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoffMilliseconds = Int64(initialBackoffMilliseconds)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeoutSeconds
        configuration.timeoutIntervalForResource = timeoutSeconds * 2
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        session = URLSession(configuration: configuration)
    }

    /// The authorization_code grant with the PKCE verifier.
    public func exchange(code: String, codeVerifier: String, redirectURI: String, state: String?,
                         now: @escaping () -> Int64) throws(OAuthError) -> TokenGrant {
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                      ("client_id", provider.clientID), ("code_verifier", codeVerifier)]
        // Claude's endpoint wants the state back in the exchange; RFC 6749 endpoints ignore it.
        if let state, provider.tokenRequestEncoding == .json { fields.append(("state", state)) }
        let (status, body) = try post(provider.tokenURL, fields)
        guard (200..<300).contains(status) else { throw OAuthError.fromResponse(status: status, body: body) }
        return try TokenGrant.parse(body, now: now())
    }

    /// The refresh_token grant.
    public func refresh(refreshToken: String, scopes: [String]?, now: @escaping () -> Int64) throws(OAuthError) -> TokenGrant {
        var fields = [("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", provider.clientID)]
        if let scopes, !scopes.isEmpty { fields.append(("scope", Scopes.joined(scopes))) }
        let (status, body) = try post(provider.tokenURL, fields)
        guard (200..<300).contains(status) else { throw OAuthError.fromResponse(status: status, body: body) }
        return try TokenGrant.parse(body, now: now())
    }

    /// RFC 7009 revocation.
    public func revoke(token: String, hint: String) throws(OAuthError) {
        guard let url = provider.revocationURL else {
            throw OAuthError(kind: .rejected, code: nil, message: "provider \(provider.name) has no revocation endpoint", status: nil)
        }
        let (status, body) = try post(url, [("token", token), ("token_type_hint", hint), ("client_id", provider.clientID)])
        guard (200..<300).contains(status) else { throw OAuthError.fromResponse(status: status, body: body) }
    }

    /// POSTs `fields` in the provider's encoding, retrying transient failures.
    private func post(_ endpoint: String, _ fields: [(String, String)]) throws(OAuthError) -> (Int, [UInt8]) {
        guard let url = URL(string: endpoint) else {
            throw OAuthError(kind: .rejected, code: nil, message: "\(endpoint) is not a valid URL", status: nil)
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
            let credentials = PercentEncoding.encode(provider.clientID) + ":" + PercentEncoding.encode(secret)
            request.setValue("Basic " + Base64.encode(Array(credentials.utf8)), forHTTPHeaderField: "Authorization")
        }
        var backoff = initialBackoffMilliseconds
        var attempt = 1
        while true {
            let outcome = send(request)
            switch outcome {
            case .answered(let status, let body) where status < 500 && status != 429:
                return (status, body)
            case .answered(let status, let body) where attempt >= maxAttempts:
                return (status, body)
            case .failed(let reason) where attempt >= maxAttempts:
                throw OAuthError(kind: .transient, code: nil,
                                 message: "token endpoint \(endpoint) unreachable: \(reason) (\(attempt) attempts)", status: nil)
            default:
                Clock.sleep(milliseconds: backoff)
                backoff *= 2
                attempt += 1
            }
        }
    }

    private enum Outcome {
        case answered(Int, [UInt8])
        case failed(String)
    }

    private func send(_ request: URLRequest) -> Outcome {
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { data, response, error in
            if let error {
                box.outcome = .failed(error.localizedDescription)
            } else {
                box.outcome = .answered((response as? HTTPURLResponse)?.statusCode ?? 0, [UInt8](data ?? Data()))
            }
            done.signal()
        }.resume()
        done.wait()
        return box.outcome ?? .failed("no answer")
    }

    /// Carries the answer from URLSession's queue to the waiting thread.
    private final class Box: @unchecked Sendable {
        // Written once before the semaphore is signalled, read after the wait.
        var outcome: Outcome?
    }
}
