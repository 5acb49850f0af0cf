import AgentProtocol
import OAuth
import Testing

@Suite("Authorization request URL")
struct AuthorizeURLTests {
    static func request(endpoint: String = "https://claude.ai/oauth/authorize") -> AuthorizeRequest {
        AuthorizeRequest(
            authorizationEndpoint: endpoint,
            clientID: "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
            redirectURI: "https://console.anthropic.com/oauth/code/callback",
            scopes: ["org:create_api_key", "user:profile", "user:inference"],
            state: "st/ate+1=2&x",
            codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            extraParameters: [("code", "true")])
    }

    static let expectedQuery =
        "code=true"
        + "&client_id=9d1c250a-e61b-44d9-88ed-5944d1962f5e"
        + "&response_type=code"
        + "&redirect_uri=https%3A%2F%2Fconsole.anthropic.com%2Foauth%2Fcode%2Fcallback"
        + "&scope=org%3Acreate_api_key%20user%3Aprofile%20user%3Ainference"
        + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        + "&code_challenge_method=S256"
        + "&state=st%2Fate%2B1%3D2%26x"

    @Test("builds the exact URL in Claude Code's order: extras (code=true) first, then the standard parameters")
    func exactURL() {
        #expect(Self.request().url == "https://claude.ai/oauth/authorize?" + Self.expectedQuery)
    }

    @Test("joins with '&' when the endpoint already has a query", arguments: [
        ("https://example.com/authorize?tenant=a", "https://example.com/authorize?tenant=a&"),
        ("https://example.com/authorize?", "https://example.com/authorize?"),
        ("https://example.com/authorize?tenant=a&", "https://example.com/authorize?tenant=a&"),
    ])
    func existingQuery(endpoint: String, prefix: String) {
        #expect(Self.request(endpoint: endpoint).url == prefix + Self.expectedQuery)
    }

    @Test("the query parses back to the original values")
    func roundTrip() throws {
        let url = Self.request().url
        let query = String(url[url.index(after: try #require(url.firstIndex(of: "?")))...])
        let pairs = try #require(PercentEncoding.parseQuery(query))
        #expect(pairs.map(\.0) == [
            "code", "client_id", "response_type", "redirect_uri", "scope",
            "code_challenge", "code_challenge_method", "state",
        ])
        #expect(pairs[4].1 == "org:create_api_key user:profile user:inference")
        #expect(pairs[7].1 == "st/ate+1=2&x")
    }

    @Test("equality compares extra parameters too")
    func equality() {
        var other = Self.request()
        #expect(other == Self.request())
        other.extraParameters = [("code", "false")]
        #expect(other != Self.request())
        other.extraParameters = []
        #expect(other != Self.request())
    }
}
