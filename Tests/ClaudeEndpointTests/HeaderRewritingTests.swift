import AgentProtocol
import ClaudeEndpoint
import HTTPBridge
import HTTPCodec
import Testing

@Suite("What the endpoint sends upstream and back")
struct HeaderRewritingTests {
    static let token = EndpointToken(accessToken: "tok-1", account: "work",
                                     headers: [("anthropic-beta", "oauth-2025-04-20"), ("X-Provider", "p")], expiresAt: nil)

    static func names(_ headers: [(name: String, value: String)]) -> [String] { headers.map { $0.name.lowercased() } }

    @Test("the client's credentials and hop-by-hop fields go; the token and the provider's headers come")
    func credentialsReplaced() {
        let client: HTTPHeaders = ["Host": "127.0.0.1:7778", "x-api-key": "claude-agent:work", "Authorization": "Bearer sk-old",
                                   "Connection": "keep-alive, X-Hop", "X-Hop": "1", "Content-Length": "12",
                                   "Accept-Encoding": "gzip", "anthropic-version": "2023-06-01", "X-Provider": "client's",
                                   "Transfer-Encoding": "chunked", "Expect": "100-continue"]
        let upstream = HeaderRewriting.upstreamHeaders(from: client, token: Self.token)
        #expect(Self.names(upstream) == ["anthropic-version", "x-provider", "anthropic-beta", "authorization"])
        #expect(upstream.filter { $0.name == "Authorization" }.map { $0.value } == ["Bearer tok-1"])
        #expect(upstream.first { $0.name == "X-Provider" }?.value == "p")
    }

    @Test("anthropic-beta flags are merged with the client's, in order, without duplicates", arguments: [
        ([], "oauth-2025-04-20"),
        (["prompt-caching-2024-07-31"], "prompt-caching-2024-07-31,oauth-2025-04-20"),
        (["a, b", "oauth-2025-04-20"], "a,b,oauth-2025-04-20"),
        (["OAuth-2025-04-20 ,, c"], "oauth-2025-04-20,c"),
    ])
    func betaMerged(client: [String], expected: String) {
        var headers = HTTPHeaders()
        for value in client { headers.append("anthropic-beta", value) }
        let upstream = HeaderRewriting.upstreamHeaders(from: headers, token: Self.token)
        #expect(upstream.filter { $0.name == "anthropic-beta" }.map { $0.value } == [expected])
    }

    @Test("a key claude-agent:NAME or :ID picks the account, as x-api-key or Bearer; anything else picks none", arguments: [
        (["x-api-key": "claude-agent:work"], AccountReference.name("work")),
        (["Authorization": "Bearer claude-agent:7"], .id(7)),
        (["x-api-key": "placeholder"], nil),
        (["x-api-key": "claude-agent:"], nil),
        (["x-api-key": "claude-agent"], nil),
        ([:], nil),
    ] as [([String: String], AccountReference?)])
    func accountFromKey(fields: [String: String], expected: AccountReference?) {
        var headers = HTTPHeaders()
        for (name, value) in fields { headers.append(name, value) }
        #expect(HeaderRewriting.account(in: headers) == expected)
    }

    @Test("the upstream's framing and content coding stay behind; the rest reaches the client")
    func answerHeaders() {
        let client = HeaderRewriting.clientHeaders(from: [("Content-Type", "text/event-stream"), ("Content-Length", "5"),
                                                          ("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip"),
                                                          ("Connection", "keep-alive"), ("request-id", "req_1"),
                                                          ("Date", "x"), ("anthropic-ratelimit-requests-remaining", "9")])
        #expect(client.map { $0.name } == ["Content-Type", "request-id", "anthropic-ratelimit-requests-remaining"])
    }
}

@Suite("The upstream URL, checked at the door")
struct UpstreamURLTests {
    @Test("accepted", arguments: [
        ("https://api.anthropic.com", "https://api.anthropic.com/v1/messages"),
        ("https://api.example.com:8443/base/", "https://api.example.com:8443/base/v1/messages"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000/v1/messages"),
        ("http://localhost:9000", "http://localhost:9000/v1/messages"),
        ("http://[::1]:9000", "http://[::1]:9000/v1/messages"),
    ])
    func accepted(text: String, url: String) throws {
        #expect(try UpstreamURL(text).url(for: "/v1/messages") == url)
    }

    @Test("refused: plain http off loopback, other schemes, user info, queries, no host", arguments: [
        "http://api.anthropic.com", "http://10.0.0.1:80", "ftp://x", "api.anthropic.com", "https://user@host",
        "https://host?x=1", "https://", "https://ho st", "http://127.0.0.1.evil.com",
    ])
    func refused(text: String) {
        #expect(throws: EndpointError.self) { try UpstreamURL(text) }
    }
}

@Suite("Errors in the Anthropic API's shape")
struct AnthropicErrorTests {
    @Test("type, error.type and message, with the API's type for the status", arguments: [
        (401, "authentication_error"), (403, "permission_error"), (413, "request_too_large"), (503, "api_error"),
        (400, "invalid_request_error"), (404, "not_found_error"),
    ])
    func shape(status: Int, type: String) throws {
        let response = AnthropicError.response(status, "run `claude-agent login`")
        #expect(response.status == status)
        let json = try JSONValue.parse(response.body)
        #expect(json == JSONValue.object(["type": .string("error"),
                                 "error": .object(["type": .string(type), "message": .string("run `claude-agent login`")])]))
    }
}
