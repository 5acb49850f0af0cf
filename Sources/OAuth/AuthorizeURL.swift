import AgentProtocol

// Building the OAuth 2.0 authorization-code request URL (RFC 6749 §4.1.1)
// with a PKCE S256 challenge (RFC 7636 §4.3).

/// The parameters of an authorization request.
public struct AuthorizeRequest: Sendable, Equatable {
    /// e.g. "https://claude.ai/oauth/authorize"; may already contain a query.
    public var authorizationEndpoint: String
    public var clientID: String
    public var redirectURI: String
    public var scopes: [String]
    public var state: String
    public var codeChallenge: String
    /// Put before the standard parameters, in order, e.g. [("code", "true")]: Claude's
    /// service reads `code=true` first, as Claude Code sends it (anthropics/claude-code
    /// #93216 quotes the URL); the order is immaterial to RFC 6749 providers.
    public var extraParameters: [(String, String)]

    public init(
        authorizationEndpoint: String,
        clientID: String,
        redirectURI: String,
        scopes: [String],
        state: String,
        codeChallenge: String,
        extraParameters: [(String, String)] = []
    ) {
        self.authorizationEndpoint = authorizationEndpoint
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.scopes = scopes
        self.state = state
        self.codeChallenge = codeChallenge
        self.extraParameters = extraParameters
    }

    /// The query parameters in the order they appear in `url`.
    public var queryItems: [(String, String)] {
        extraParameters + [
            ("client_id", clientID),
            ("response_type", "code"),
            ("redirect_uri", redirectURI),
            ("scope", scopes.joined(separator: " ")),
            ("code_challenge", codeChallenge),
            ("code_challenge_method", PKCE.method),
            ("state", state),
        ]
    }

    /// The extras, then client_id, response_type=code, redirect_uri, scope (space-joined),
    /// code_challenge, code_challenge_method=S256, state (Claude Code's order);
    /// every name and value percent-encoded with `PercentEncoding.encode`.
    /// Joined to the endpoint with '?' or, if it already has a query, '&'
    /// (nothing if it already ends in '?' or '&').
    public var url: String {
        let query = PercentEncoding.formEncode(queryItems)
        let separator: String
        if let q = authorizationEndpoint.firstIndex(of: "?") {
            let last = authorizationEndpoint.last
            separator = (authorizationEndpoint.index(after: q) == authorizationEndpoint.endIndex || last == "&") ? "" : "&"
        } else {
            separator = "?"
        }
        return authorizationEndpoint + separator + query
    }

    public static func == (lhs: AuthorizeRequest, rhs: AuthorizeRequest) -> Bool {
        lhs.authorizationEndpoint == rhs.authorizationEndpoint
            && lhs.clientID == rhs.clientID
            && lhs.redirectURI == rhs.redirectURI
            && lhs.scopes == rhs.scopes
            && lhs.state == rhs.state
            && lhs.codeChallenge == rhs.codeChallenge
            && lhs.extraParameters.count == rhs.extraParameters.count
            && zip(lhs.extraParameters, rhs.extraParameters).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}
