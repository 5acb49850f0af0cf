import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient
import HTTPCodec
import Synchronization

/// An access token as the endpoint attaches it: the token, the provider's headers that go
/// with it, and when the endpoint stops reusing it.
public struct EndpointToken: Sendable {
    public var accessToken: String
    /// The account the agent chose (for the audit line).
    public var account: String
    /// Provider headers from the agent's `token.get` `headers` (for the built-in claude
    /// provider, `anthropic-beta: oauth-2025-04-20`).
    public var headers: [(name: String, value: String)]
    /// Unix seconds; nil when the provider stated none.
    public var expiresAt: Int64?

    public init(accessToken: String, account: String, headers: [(name: String, value: String)], expiresAt: Int64?) {
        self.accessToken = accessToken
        self.account = account
        self.headers = headers
        self.expiresAt = expiresAt
    }
}

/// A token the agent could not give, as the client is told.
public struct TokenFailure: Error, Sendable {
    public let status: Int
    public let message: String
}

/// Where tokens come from; tests and benchmarks use the agent too, so this is the only one.
public protocol TokenSource: Sendable {
    /// A token for `account` (nil: the default one); `forceRefresh` asks the agent to
    /// refresh first (`token.get` `"refresh": true`).
    func token(account: AccountReference?, forceRefresh: Bool) throws(TokenFailure) -> EndpointToken
}

/// Tokens from the agent's socket, kept until shortly before they expire, as any client of
/// the agent would: most requests then cost no agent call at all.
public final class AgentTokens: TokenSource {
    /// A cached token is not used in its last minute: a request started just before the
    /// expiry would reach the API with a dead token.
    public static let reuseMarginSeconds: Int64 = 60

    private let socketPath: String
    private let scopes: [String]
    private let timeoutMilliseconds: Int64
    private let cache = Mutex<[String: EndpointToken]>([:])

    public init(socketPath: String, scopes: [String], timeoutMilliseconds: Int64) {
        self.socketPath = socketPath
        self.scopes = scopes
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    public func token(account: AccountReference?, forceRefresh: Bool) throws(TokenFailure) -> EndpointToken {
        if !forceRefresh, let cached = cachedToken(account: account) { return cached }
        let key = account?.description ?? ""
        // The client library's token(): it sends our deadline (timeout_ms), so that a slow
        // refresh is answered with the agent's own reason before our wait ends, and parses
        // the answer, provider headers included.
        let client = AgentClient(socketPath: socketPath, timeoutMilliseconds: timeoutMilliseconds)
        defer { client.close() }
        let token: AccessToken
        do throws(AgentClientError) {
            token = try client.token(scopes: scopes, account: account, refresh: forceRefresh)
        } catch {
            throw Self.failure(error, account: account)
        }
        // A provider's header must stay one header line: a name that is a token (RFC 9110
        // §5.1) and a value without line breaks; anything else is left out.
        var headers: [(name: String, value: String)] = []
        for (name, value) in token.headers {
            guard let text = value.stringValue, Self.isHeaderName(name), Self.isHeaderValue(text) else { continue }
            headers.append((name, text))
        }
        let fresh = EndpointToken(accessToken: token.accessToken, account: token.account, headers: headers,
                                  expiresAt: token.expiresAt)
        cache.withLock { $0[key] = fresh }
        return fresh
    }

    /// The cached token of `account` while it may still be used, without asking the agent.
    public func cachedToken(account: AccountReference?) -> EndpointToken? {
        guard let cached = cache.withLock({ $0[account?.description ?? ""] }) else { return nil }
        guard let expiresAt = cached.expiresAt else { return cached }
        return Clock.unixSeconds() < expiresAt.subtractingReportingOverflow(Self.reuseMarginSeconds).partialValue ? cached : nil
    }

    /// Forgets the cached token of `account` (after the upstream refused it).
    public func forget(account: AccountReference?) {
        _ = cache.withLock { $0.removeValue(forKey: account?.description ?? "") }
    }

    /// What a client is told when the agent gives no token: a status the SDKs surface
    /// (401 for the account, 503 for the agent) and the command that fixes it.
    static func failure(_ error: AgentClientError, account: AccountReference?) -> TokenFailure {
        let named = account.map { " --account \($0)" } ?? ""
        switch error.code {
        case .agentNotRunning:
            return TokenFailure(status: 503, message: "claude-agent: no agent is running; start one with `claude-agent start`")
        case .locked:
            return TokenFailure(status: 503, message: "claude-agent: the agent is locked; run `claude-agent unlock`")
        case .notFound:
            return TokenFailure(status: 401, message: "claude-agent: no account \(account?.description ?? "") in the agent; "
                                    + "see `claude-agent list`, or run `claude-agent login\(named)`")
        case .noToken:
            return TokenFailure(status: 401, message: "claude-agent: the agent holds no token for this request; "
                                    + "run `claude-agent login\(named)`")
        case .expired, .loginRequired, .refreshFailed, .rotationLost:
            return TokenFailure(status: 401, message: "claude-agent: the account's login has ended (\(error.code)); "
                                    + "run `claude-agent login\(named)`")
        case .timeout, .busy, .io:
            return TokenFailure(status: 503, message: "claude-agent: the agent did not answer in time (\(error.code)); "
                                    + "check `claude-agent status`")
        default:
            return TokenFailure(status: 503, message: "claude-agent: the agent refused the token (\(error.code): \(error.message))")
        }
    }

    /// RFC 9110 §5.1 token characters: a header name the agent sends must be one.
    static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// Visible characters and spaces only: a value never breaks a header line.
    static func isHeaderValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }
}
