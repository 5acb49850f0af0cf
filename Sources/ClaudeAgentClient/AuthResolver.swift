import AgentPOSIX
import AgentProtocol

/// Credentials for one Claude API call, as HTTP headers.
public struct AuthCredentials: Equatable, Sendable {
    public enum Source: String, Sendable {
        /// `ANTHROPIC_API_KEY`, sent as `x-api-key`.
        case apiKey = "ANTHROPIC_API_KEY"
        /// `ANTHROPIC_AUTH_TOKEN`, sent as a Bearer token.
        case authToken = "ANTHROPIC_AUTH_TOKEN"
        /// An OAuth access token from the agent, sent as a Bearer token with the headers
        /// its provider needs (Claude's `anthropic-beta: oauth-2025-04-20`).
        case agent = "claude-agent"
    }

    public var source: Source
    /// Header name and value pairs to add to the request.
    public var headers: [(name: String, value: String)]
    /// When the credential stops working (agent tokens only), Unix seconds.
    public var expiresAt: Int64?

    public static func == (lhs: AuthCredentials, rhs: AuthCredentials) -> Bool {
        lhs.source == rhs.source && lhs.expiresAt == rhs.expiresAt
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }
}

/// Picks credentials for a Claude API call in the order Claude Code documents:
/// `ANTHROPIC_AUTH_TOKEN`, then `ANTHROPIC_API_KEY`, then (where Claude Code would take
/// `CLAUDE_CODE_OAUTH_TOKEN` or its own login) a token from the agent, with every header
/// that token needs: `Authorization` first, then the provider's (`token.get`'s
/// `headers`). The agent never hands out an expired token, so neither does this.
public struct AuthResolver {
    public static let defaultScopes = ["user:inference"]

    private let environment: [String: String]
    private let makeClient: () -> AgentClient

    /// - Parameters:
    ///   - environment: the variables to consult (the process environment by default).
    ///   - agent: the agent to ask when neither variable is set.
    public init(environment: [String: String] = ProcessControl.environmentDictionary(),
                agent: @escaping () -> AgentClient = AgentClient.fromEnvironment) {
        self.environment = environment
        self.makeClient = agent
    }

    public func resolve(scopes: [String] = AuthResolver.defaultScopes,
                        account: AccountReference? = nil) throws(AgentClientError) -> AuthCredentials {
        if let token = environment[AuthCredentials.Source.authToken.rawValue], !token.isEmpty {
            return AuthCredentials(source: .authToken, headers: [(HeaderName.authorization, "Bearer \(token)")], expiresAt: nil)
        }
        if let key = environment[AuthCredentials.Source.apiKey.rawValue], !key.isEmpty {
            return AuthCredentials(source: .apiKey, headers: [(HeaderName.apiKey, key)], expiresAt: nil)
        }
        let token = try makeClient().token(scopes: scopes, account: account)
        return AuthCredentials(source: .agent, headers: token.headerLines.map { (name: $0.0, value: $0.1) },
                               expiresAt: token.expiresAt)
    }
}
