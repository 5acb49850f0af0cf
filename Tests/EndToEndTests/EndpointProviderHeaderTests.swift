import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The provider's headers (`token.get`'s `headers`) on every forwarded request, merged with
/// the client's own `anthropic-beta` flags, against a mock that refuses OAuth tokens
/// without `oauth-2025-04-20` as the Messages API does.
@Suite("the local API endpoint with provider headers", .serialized)
struct EndpointProviderHeaderTests {
    /// An agent whose one provider, `test`, is the real OAuth server with the beta header
    /// (and `apiURL` as its `api_url`), with account bob logged in.
    func loggedInAgent(_ server: OAuthServer, _ sandbox: Sandbox, apiURL: String? = nil) throws -> Daemon {
        let config = sandbox.root + "/config.json"
        let api = apiURL.map { #", "api_url": "\#($0)""# } ?? ""
        try """
            {"default_provider": "test", "control_browser_url": "http://127.0.0.1:9",
             "providers": {"test": {"client_id": "claude-agent-test", "authorize_url": "\(server.url)/o/authorize/",
               "token_url": "\(server.url)/o/token/", "revocation_url": "\(server.url)/o/revoke_token/",
               "scopes": ["user:inference", "user:profile"], "token_request_encoding": "form",
               "headers": {"anthropic-beta": "oauth-2025-04-20"}\(api)}}}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try sandbox.startDaemon(["--config", config, "--skew", "1"])
        let login = try sandbox.background(["login", "--account", "bob", "--no-browser", "-a", daemon.socket])
        let url = try login.firstLine()
        let browser = try Sandbox.runPeer("browser.py", ["--user", "bob", "--password", "bob-password", url])
        #expect(browser.status == 0, "\(browser.stderr)")
        #expect(try login.wait() == 0, "\(login.stderr)")
        return daemon
    }

    @Test("a login's provider headers go with every request; the client's beta flags are kept beside them")
    func providerHeaders() throws {
        let server = try OAuthServer(accessTokenSeconds: 300)
        let sandbox = try Sandbox()
        let daemon = try loggedInAgent(server, sandbox)

        let upstream = try PeerProcess("messages_upstream.py", ["--oauth-server", server.url, "--require-beta"])
        let port = try freeLoopbackPort()
        let endpoint = try sandbox.background(["endpoint", "--listen", "\(port)", "--upstream", upstream.url, "-a", daemon.socket])
        #expect(try eventually(timeoutMilliseconds: 10_000) { endpoint.stderr.contains("listening on") })
        let result = try Sandbox.runPeer("anthropic_client.py", ["--base-url", "http://127.0.0.1:\(port)", "--beta", "prompt-caching-2024-07-31"])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr) \(endpoint.stderr)")
        let (_, body) = try HTTP.send(URLRequest(url: URL(string: upstream.url + "/test/stats")!))
        let stats = try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
        let seen = stats["last_headers"] as? [String: String] ?? [:]
        #expect(seen["anthropic-beta"] == "prompt-caching-2024-07-31,oauth-2025-04-20")
        #expect(stats["unauthorized"] as? Int == 0)
    }

    @Test("without --upstream the endpoint forwards to the provider's api_url")
    func providerAPIURL() throws {
        let server = try OAuthServer(accessTokenSeconds: 300)
        let sandbox = try Sandbox()
        let upstream = try PeerProcess("messages_upstream.py", ["--oauth-server", server.url, "--require-beta"])
        let daemon = try loggedInAgent(server, sandbox, apiURL: upstream.url)
        let port = try freeLoopbackPort()
        let endpoint = try sandbox.background(["endpoint", "--listen", "\(port)", "-a", daemon.socket])
        #expect(try eventually(timeoutMilliseconds: 10_000) { endpoint.stderr.contains("listening on") })
        #expect(endpoint.stderr.contains("forwarding to \(upstream.url)"), "\(endpoint.stderr)")
        let result = try Sandbox.runPeer("anthropic_client.py", ["--base-url", "http://127.0.0.1:\(port)"])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr) \(endpoint.stderr)")
        let (_, body) = try HTTP.send(URLRequest(url: URL(string: upstream.url + "/test/stats")!))
        let stats = try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
        #expect(stats["unauthorized"] as? Int == 0)
        #expect((stats["last_headers"] as? [String: String])?["anthropic-beta"] == "oauth-2025-04-20")
    }
}
