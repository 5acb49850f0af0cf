import AgentProtocol

/// How a token request body is written. RFC 6749 says form encoding; Claude's endpoint
/// takes JSON, which is what Claude Code sends, so the built-in provider uses that.
public enum TokenRequestEncoding: String, Sendable {
    case form, json
}

/// One OAuth provider: where to send the user to log in, where to exchange codes and
/// refresh tokens, and how that provider wants to be spoken to.
///
/// Providers are data rather than code so that a moved endpoint, a test server or a
/// different provider is a configuration change, not a new release.
public struct ProviderConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// The name the configuration file gives it (`claude` for the built-in one).
    public var name: String
    public var clientID: String
    /// The authorization endpoint (RFC 6749 §3.1); `authorize_url` in the configuration file.
    public var authorizationEndpoint: String
    /// The token endpoint (RFC 6749 §3.2); `token_url` in the configuration file.
    public var tokenEndpoint: String
    /// RFC 7009 revocation endpoint (`revocation_url`); nil when the provider has none
    /// (logout then only forgets).
    public var revocationEndpoint: String?
    /// Where the browser comes back in the automatic flow (see `LoopbackRedirect`): a
    /// loopback URI with or without a port, or a provider page. nil: RFC 8252 §7.3's
    /// `http://127.0.0.1:<any port>/oauth/callback`.
    public var redirectURI: String?
    /// The provider's page that shows the code for pasting, used when the browser runs on
    /// another machine (`login --no-browser`, no display); nil when it has none.
    public var manualRedirectURI: String?
    /// The scopes asked for when a login names none.
    public var scopes: [String]
    /// For confidential clients only, sent with HTTP Basic (RFC 6749 §2.3.1). Public
    /// clients such as Claude Code's have none and rely on PKCE.
    public var clientSecret: String?
    public var tokenRequestEncoding: TokenRequestEncoding
    /// Parameters the provider wants on its authorize URL beyond RFC 6749's, in order
    /// (Claude's `code=true`, which makes it show the code for pasting).
    public var extraAuthorizeParameters: [(String, String)]
    public var userAgent: String
    /// HTTP headers a request made with this provider's access tokens needs besides
    /// `Authorization`, in order; handed to clients with every token (`token.get`'s
    /// `headers`).
    public var headers: [(String, String)]
    /// The API its access tokens are for, where `claude-agent endpoint` forwards requests
    /// when started without `--upstream` (`claude`: Anthropic's API); nil: none known.
    public var apiURL: String?

    public init(name: String, clientID: String, authorizationEndpoint: String, tokenEndpoint: String, revocationEndpoint: String? = nil,
                redirectURI: String? = nil, manualRedirectURI: String? = nil, scopes: [String], clientSecret: String? = nil,
                tokenRequestEncoding: TokenRequestEncoding = .form, extraAuthorizeParameters: [(String, String)] = [],
                userAgent: String = ProviderConfiguration.defaultUserAgent, headers: [(String, String)] = [],
                apiURL: String? = nil) {
        self.name = name
        self.clientID = clientID
        self.authorizationEndpoint = authorizationEndpoint
        self.tokenEndpoint = tokenEndpoint
        self.revocationEndpoint = revocationEndpoint
        self.redirectURI = redirectURI
        self.manualRedirectURI = manualRedirectURI
        self.scopes = scopes
        self.clientSecret = clientSecret
        self.tokenRequestEncoding = tokenRequestEncoding
        self.extraAuthorizeParameters = extraAuthorizeParameters
        self.userAgent = userAgent
        self.headers = headers
        self.apiURL = apiURL
    }

    /// `claude-agent/<version>`: providers see which client calls them.
    public static let defaultUserAgent = "claude-agent/\(agentVersion)"

    /// Claude's provider as Claude Code uses it.
    ///
    /// These endpoints have moved more than once: the authorize page was
    /// `https://claude.ai/oauth/authorize` and is now `https://claude.com/cai/oauth/authorize`;
    /// the token endpoint was `https://console.anthropic.com/v1/oauth/token` and is now
    /// `https://platform.claude.com/v1/oauth/token`. When they move again, override them in
    /// the configuration file (a `claude` provider there starts from these values and
    /// replaces only the keys it gives) or with `CLAUDE_AGENT_AUTHORIZE_URL` and
    /// `CLAUDE_AGENT_TOKEN_URL`, without waiting for a release.
    ///
    /// What the service expects, from public sources (checked against each other):
    /// - `code=true` first on the authorize URL (the URLs Claude Code builds, quoted in
    ///   anthropics/claude-code #36215 and #93216; opencode-anthropic-auth does the same).
    /// - Only two redirect URIs are registered for this client: `http://localhost:<any
    ///   port>/callback` and `https://platform.claude.com/oauth/code/callback`, whose page
    ///   shows `code#state`; any other is refused with "Redirect URI … is not supported by
    ///   client" (anthropics/claude-code #36015, #37831, #88877).
    /// - Claude Code's scopes; a token with fewer breaks Claude Code's MCP connectors and
    ///   file uploads when handed to it.
    /// - JSON token requests (terok-ai/terok #553).
    /// - Its access tokens need `anthropic-beta: oauth-2025-04-20` on the Messages API, or
    ///   it answers 401 "OAuth authentication is currently not supported."
    ///   (anthropic-sdk-python #988, anthropics/claude-code #5983).
    public static let claude = ProviderConfiguration(
        name: "claude",
        clientID: "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
        authorizationEndpoint: "https://claude.com/cai/oauth/authorize",
        tokenEndpoint: "https://platform.claude.com/v1/oauth/token",
        revocationEndpoint: nil,
        redirectURI: "http://localhost/callback",
        manualRedirectURI: "https://platform.claude.com/oauth/code/callback",
        scopes: ["org:create_api_key", "user:profile", "user:inference", "user:sessions:claude_code",
                 "user:mcp_servers", "user:file_upload"],
        clientSecret: nil,
        tokenRequestEncoding: .json,
        extraAuthorizeParameters: [("code", "true")],
        userAgent: defaultUserAgent,
        headers: [(oauthBetaHeader.name, oauthBetaHeader.value)],
        apiURL: AnthropicAPI.baseURL)

    /// The header Anthropic's API wants with an OAuth access token.
    public static let oauthBetaHeader = (name: HeaderName.anthropicBeta, value: "oauth-2025-04-20")

    /// Tuples are not `Equatable`, so the parameters are compared pair by pair, in order.
    public static func == (lhs: ProviderConfiguration, rhs: ProviderConfiguration) -> Bool {
        lhs.name == rhs.name && lhs.clientID == rhs.clientID && lhs.authorizationEndpoint == rhs.authorizationEndpoint
            && lhs.tokenEndpoint == rhs.tokenEndpoint && lhs.revocationEndpoint == rhs.revocationEndpoint
            && lhs.redirectURI == rhs.redirectURI && lhs.manualRedirectURI == rhs.manualRedirectURI && lhs.apiURL == rhs.apiURL && lhs.scopes == rhs.scopes && lhs.clientSecret == rhs.clientSecret
            && lhs.tokenRequestEncoding == rhs.tokenRequestEncoding && lhs.userAgent == rhs.userAgent
            && lhs.extraAuthorizeParameters.count == rhs.extraAuthorizeParameters.count
            && zip(lhs.extraAuthorizeParameters, rhs.extraAuthorizeParameters).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            && lhs.headers.count == rhs.headers.count
            && zip(lhs.headers, rhs.headers).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// Everything but the client secret, which is shown only as present or not, so a
    /// configuration can be logged or printed in a test failure without leaking it.
    public var description: String {
        "ProviderConfiguration(name: \(name), clientID: \(clientID), authorizationEndpoint: \(authorizationEndpoint), "
            + "tokenEndpoint: \(tokenEndpoint), revocationEndpoint: \(revocationEndpoint ?? "none"), redirectURI: \(redirectURI ?? "loopback"), manualRedirectURI: \(manualRedirectURI ?? "none"), "
            + "scopes: \(Scopes.joined(scopes)), clientSecret: \(clientSecret == nil ? "none" : "set"), "
            + "encoding: \(tokenRequestEncoding.rawValue), "
            + "extra: \(extraAuthorizeParameters.map { "\($0.0)=\($0.1)" }.joined(separator: "&")), "
            + "userAgent: \(userAgent), headers: \(headers.map { $0.0 }.joined(separator: ",")), apiURL: \(apiURL ?? "none"))"
    }
}

extension ProviderConfiguration {
    /// `http://` or `https://` followed by a host, with no spaces or control characters:
    /// enough to catch a misspelt scheme or a pasted quote without a URL parser, which this
    /// module cannot have.
    public static func isHTTPURL(_ text: String) -> Bool {
        let rest: Substring
        if text.hasPrefix("https://") {
            rest = text.dropFirst(8)
        } else if text.hasPrefix("http://") {
            rest = text.dropFirst(7)
        } else {
            return false
        }
        guard let first = rest.first, !["/", "?", "#", ":"].contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
    }
}

/// Rules for the headers a provider configures for its tokens.
public enum ProviderHeaders {
    /// Headers a provider may not set: the agent hands out `Authorization` itself, and the
    /// others belong to the HTTP client.
    static let reserved = [HeaderName.authorization.lowercased(), "host", "content-length", "content-type", "transfer-encoding", "connection"]
    /// The longest header name a provider may configure: real ones (`anthropic-beta`) are
    /// a dozen or two characters.
    public static let maxNameBytes = 64
    /// The longest header value a provider may configure: a list of beta flags fits many
    /// times over, and every token answer carries it, so it stays small.
    public static let maxValueBytes = 1024

    /// Why a header is unacceptable, or nil: the name must be an RFC 9110 §5.6.2 token and
    /// not reserved; the value visible ASCII and spaces only (no CR or LF, which would
    /// split a header line when printed by `token --header`).
    public static func problem(name: String, value: String) -> String? {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        guard !name.isEmpty, name.utf8.count <= maxNameBytes, name.utf8.allSatisfy(tchar.contains) else {
            return "a header name is 1 to \(maxNameBytes) letters, digits or !#$%&'*+-.^_`|~ (RFC 9110 token)"
        }
        guard !reserved.contains(name.lowercased()) else { return "header \(name) is set by the agent or the HTTP client, not by a provider" }
        guard value.utf8.count <= maxValueBytes, value.utf8.allSatisfy({ $0 == 0x20 || (0x21...0x7E).contains($0) }) else {
            return "a header value is at most \(maxValueBytes) visible ASCII characters or spaces"
        }
        return nil
    }
}
