import AgentProtocol

/// The authorization request URL (RFC 6749 §4.1.1 with RFC 7636's challenge): every value
/// percent-encoded, `code_challenge_method=S256` always sent.
public struct AuthorizeRequest: Sendable, Equatable {
    public var authorizeEndpoint: String
    public var clientID: String
    public var redirectURI: String
    public var scopes: [String]
    public var state: String
    public var codeChallenge: String
    /// Provider-specific parameters appended after the standard ones (Claude's `code=true`).
    public var extraParameters: [(String, String)]

    public init(authorizeEndpoint: String, clientID: String, redirectURI: String, scopes: [String], state: String,
                codeChallenge: String, extraParameters: [(String, String)] = []) {
        self.authorizeEndpoint = authorizeEndpoint
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.scopes = scopes
        self.state = state
        self.codeChallenge = codeChallenge
        self.extraParameters = extraParameters
    }

    public static func == (lhs: AuthorizeRequest, rhs: AuthorizeRequest) -> Bool {
        lhs.url == rhs.url
    }

    public var url: String {
        var parameters: [(String, String)] = []
        // Claude's endpoint expects `code=true` first; other extras follow the standard ones.
        parameters += extraParameters.filter { $0.0 == "code" }
        parameters += [
            ("response_type", "code"),
            ("client_id", clientID),
            ("redirect_uri", redirectURI),
            ("scope", Scopes.joined(scopes)),
            ("code_challenge", codeChallenge),
            ("code_challenge_method", PKCE.method),
            ("state", state),
        ]
        parameters += extraParameters.filter { $0.0 != "code" }
        let separator = authorizeEndpoint.contains("?") ? "&" : "?"
        return authorizeEndpoint + separator + PercentEncoding.formEncode(parameters)
    }
}
