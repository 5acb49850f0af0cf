import AgentProtocol
import AgentTransport

/// Asks the Electron control browser to open an authorize URL in one account's browser
/// session: `GET <base>/open-auth?account_id=<id>&auth_url=<url-encoded>`, as the original
/// router did. Synchronous: called from the agent's worker threads only. Redirects are
/// followed, as they always were: the control browser is ours, on loopback.
public struct ControlBrowserClient: Sendable {
    private let baseURL: String
    private let transport: any HTTPTransport
    private let timeoutMilliseconds: Int64

    /// How long `openAuth` waits for the control browser when not told, in milliseconds:
    /// it is on loopback and answers at once, or is not running.
    public static let defaultTimeoutMilliseconds: Int64 = 5_000

    /// - Parameter timeoutMilliseconds: the whole exchange's time-out.
    public init(baseURL: String, transport: any HTTPTransport = HelperTransport(),
                timeoutMilliseconds: Int64 = ControlBrowserClient.defaultTimeoutMilliseconds) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.transport = transport
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Succeeds on a 2xx answer; anything else (non-2xx, refused, timed out) is an error
    /// whose message says which.
    public func openAuth(accountID: UInt32, authorizeURL: String) throws(OAuthError) {
        guard ProviderConfiguration.isHTTPURL(baseURL) else {
            throw OAuthError(kind: .rejected, code: nil, message: "control_browser_url \(baseURL) is not a valid URL", status: nil)
        }
        let target = "\(baseURL)/open-auth?account_id=\(accountID)&auth_url=\(PercentEncoding.encode(authorizeURL))"
        let exchange = HTTPExchange(method: "GET", url: target, timeoutMilliseconds: timeoutMilliseconds, followsRedirects: true)
        switch transport.send(exchange) {
        case .answered(let status, _):
            guard (200..<300).contains(status) else {
                throw OAuthError(kind: .rejected, code: nil, message: "\(baseURL)/open-auth answered HTTP \(status)", status: status)
            }
        case .failed(let reason), .notSent(let reason):
            throw OAuthError(kind: .transient, code: nil, message: "\(baseURL) unreachable: \(reason)", status: nil)
        case .transportFailed(let reason):
            throw OAuthError(kind: .transient, code: nil, message: "\(baseURL) not reached: \(reason)", status: nil)
        }
    }
}
