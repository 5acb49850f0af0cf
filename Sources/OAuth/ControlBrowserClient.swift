import AgentProtocol
import Dispatch
#if canImport(FoundationNetworking)
import Foundation
import FoundationNetworking
#else
import Foundation
#endif

/// Asks the Electron control browser to open an authorize URL in one account's browser
/// session: `GET <base>/open-auth?account_id=<id>&auth_url=<url-encoded>`, as the original
/// router did. Synchronous: called from the agent's worker threads only.
public final class ControlBrowserClient: @unchecked Sendable {
    // Immutable after init; URLSession is thread-safe.
    private let baseURL: String
    private let timeoutSeconds: Double
    private let session: URLSession

    public init(baseURL: String, timeoutSeconds: Double = 5) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeoutSeconds = timeoutSeconds
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeoutSeconds
        configuration.timeoutIntervalForResource = timeoutSeconds
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    /// Succeeds on a 2xx answer; anything else (non-2xx, refused, timed out) is an error
    /// whose message says which.
    public func openAuth(accountID: UInt32, authorizeURL: String) throws(OAuthError) {
        let target = "\(baseURL)/open-auth?account_id=\(accountID)&auth_url=\(PercentEncoding.encode(authorizeURL))"
        guard let url = URL(string: target) else {
            throw OAuthError(kind: .rejected, code: nil, message: "control_browser_url \(baseURL) is not a valid URL", status: nil)
        }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalAndRemoteCacheData, timeoutInterval: timeoutSeconds)
        request.httpMethod = "GET"
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { _, response, error in
            outcome.set(status: (response as? HTTPURLResponse)?.statusCode, error: error.map { "\($0.localizedDescription)" })
            done.signal()
        }.resume()
        done.wait()
        let (status, failure) = outcome.get()
        if let failure {
            throw OAuthError(kind: .transient, code: nil, message: "\(baseURL) unreachable: \(failure)", status: nil)
        }
        guard let status, (200..<300).contains(status) else {
            throw OAuthError(kind: .rejected, code: nil, message: "\(baseURL)/open-auth answered HTTP \(status.map(String.init) ?? "?")", status: status)
        }
    }

    /// The callback's result, handed from URLSession's queue to the waiting thread.
    private final class Outcome: @unchecked Sendable {
        // Guarded by the semaphore: written once before signal, read after wait.
        private var status: Int?
        private var error: String?
        func set(status: Int?, error: String?) { self.status = status; self.error = error }
        func get() -> (Int?, String?) { (status, error) }
    }
}
