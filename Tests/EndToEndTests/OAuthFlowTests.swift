import ClaudeAgentClient
import Foundation
import Testing

/// The agent against a real OAuth server (django-oauth-toolkit): PKCE login, refresh on
/// demand with rotation, one refresh per account, revocation, outages.
@Suite("OAuth against a real server", .serialized)
struct OAuthFlowTests {
    /// An `expires_at` in the past: a token added with it is refreshed at the first call,
    /// while the server still honours it.
    static let past = "2020-01-01T00:00:00Z"

    /// Tokens from the server for `account`, added with an access token the agent counts
    /// as expired.
    func addExpired(_ sandbox: Sandbox, _ daemon: Daemon, _ server: OAuthServer, account: String) throws {
        let tokens = try server.obtainTokens(user: account)
        let access = try #require(tokens["access_token"] as? String)
        let refresh = try #require(tokens["refresh_token"] as? String)
        let bundle = #"{"access_token": "\#(access)", "refresh_token": "\#(refresh)", "expires_at": "\#(Self.past)", "scope": "user:inference user:profile"}"#
        let add = try sandbox.cli("add", "--account", account, "-a", daemon.socket, stdin: bundle)
        #expect(add.status == 0, "\(add.stderr)")
    }

    /// An agent configured for the test server, with a 1 s expiry skew so short-lived
    /// tokens are usable.
    func agent(_ server: OAuthServer, _ sandbox: Sandbox, extra: [String] = []) throws -> Daemon {
        let config = try server.writeConfig(in: sandbox)
        return try sandbox.startDaemon(["--config", config, "--skew", "1"] + extra)
    }

    /// `claude-agent login` with the browser played by the peer script.
    func login(_ sandbox: Sandbox, socket: String, account: String, user: String) throws -> CommandResult {
        let login = try sandbox.background(["login", "--account", account, "--no-browser", "-a", socket])
        let url = try login.firstLine()
        #expect(url.contains("code_challenge_method=S256"))
        #expect(url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"))
        let browser = try Sandbox.runPeer("browser.py", ["--user", user, "--password", "\(user)-password", url])
        #expect(browser.status == 0, "\(browser.stderr)")
        let status = try login.wait()
        return CommandResult(status: status, stdout: login.stdout, stderr: login.stderr)
    }

    @Test("login in a browser, then the token works at the provider; after expiry the agent refreshes and the old token is dead")
    func loginAndRefresh() throws {
        let server = try OAuthServer(accessTokenSeconds: 3)
        let sandbox = try Sandbox()
        let daemon = try agent(server, sandbox)
        let result = try login(sandbox, socket: daemon.socket, account: "alice", user: "alice")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("Logged in account alice (#1), token SHA256:"))

        let first = try sandbox.cli("token", "-a", daemon.socket).stdout.trimmingCharacters(in: .newlines)
        #expect(try server.whoami(first) == "alice")
        // The server's 3 s token runs out on the wall clock: wait for that moment.
        try waitUntilTokenExpires(sandbox, socket: daemon.socket, skewSeconds: 1)
        let second = try sandbox.cli("token", "-a", daemon.socket)
        #expect(second.status == 0, "\(second.stderr)")
        let refreshed = second.stdout.trimmingCharacters(in: .newlines)
        #expect(refreshed != first)
        #expect(try server.whoami(refreshed) == "alice")
        #expect(try server.whoami(first) == nil)
        let list = try sandbox.cli("list", "--json", "-a", daemon.socket).stdout
        #expect(list.contains("\"state\": \"ok\""))
    }

    @Test("--refresh-ahead refreshes in the background before expiry, so callers do not wait")
    func refreshAhead() throws {
        let server = try OAuthServer(accessTokenSeconds: 6)
        let sandbox = try Sandbox()
        let daemon = try agent(server, sandbox, extra: ["--refresh-ahead"])
        #expect(try login(sandbox, socket: daemon.socket, account: "alice", user: "alice").status == 0)
        let first = try sandbox.cli("token", "-a", daemon.socket).stdout
        try server.resetStats()
        // At about 2/3 of a 6 s life the agent refreshes by itself; nobody asks meanwhile.
        #expect(try eventually(timeoutMilliseconds: 8_000) { try server.tokenRequests("refresh_token") == 1 })
        // The server counts the request on arrival; the agent shows it in flight, then done.
        #expect(try eventually(timeoutMilliseconds: 5_000) { try sandbox.cli("status", "-a", daemon.socket).stdout.contains("#1 alice: ok") })
        #expect(try server.tokenRequests("refresh_token") == 1)
        let second = try sandbox.cli("token", "-a", daemon.socket).stdout
        #expect(second != first)
        #expect(try server.whoami(second.trimmingCharacters(in: .newlines)) == "alice")
    }

    @Test("the refresh rotates: the old refresh token is rejected by the server, and a response's refresh token replaces it")
    func rotation() throws {
        let server = try OAuthServer(accessTokenSeconds: 300)
        let sandbox = try Sandbox()
        let daemon = try agent(server, sandbox)
        let tokens = try server.obtainTokens(user: "bob")
        let oldRefresh = try #require(tokens["refresh_token"] as? String)
        let bundle = #"{"access_token": "\#(tokens["access_token"] as? String ?? "")", "refresh_token": "\#(oldRefresh)", "expires_at": "\#(Self.past)", "scope": "user:inference user:profile"}"#
        #expect(try sandbox.cli("add", "--account", "bob", "-a", daemon.socket, stdin: bundle).status == 0)
        let token = try sandbox.cli("token", "-a", daemon.socket)
        #expect(token.status == 0, "\(token.stderr)")
        #expect(try server.whoami(token.stdout.trimmingCharacters(in: .newlines)) == "bob")
        #expect(try server.refreshError(oldRefresh) == "invalid_grant")
    }

    @Test("50 concurrent token calls on an expired token cause exactly one refresh")
    func oneRefreshForMany() throws {
        // Tokens the server makes live long enough to outlast 50 processes on a loaded
        // machine; the agent holds one it already counts as expired, so every call needs
        // the refresh (a 3 s token could run out again before the last call or `whoami`).
        let server = try OAuthServer(accessTokenSeconds: 300)
        let sandbox = try Sandbox()
        let daemon = try agent(server, sandbox)
        try addExpired(sandbox, daemon, server, account: "alice")
        try server.resetStats()
        try server.delayTokenEndpoint(seconds: 1)
        let calls = try (0..<50).map { _ in try sandbox.background(["token", "-a", daemon.socket]) }
        let statuses = try calls.map { try $0.wait() }
        try server.delayTokenEndpoint(seconds: 0)
        #expect(statuses.allSatisfy { $0 == 0 }, "\(calls.map(\.stderr))")
        #expect(Set(calls.map(\.stdout)).count == 1)
        #expect(try server.tokenRequests("refresh_token") == 1)
        #expect(try server.whoami(calls[0].stdout.trimmingCharacters(in: .newlines)) == "alice")
    }

    @Test("a revoked refresh token gives login_required, never the old token")
    func revoked() throws {
        let server = try OAuthServer(accessTokenSeconds: 300)
        let sandbox = try Sandbox()
        let daemon = try agent(server, sandbox)
        let tokens = try server.obtainTokens(user: "alice")
        let access = try #require(tokens["access_token"] as? String)
        let refresh = try #require(tokens["refresh_token"] as? String)
        let bundle = #"{"access_token": "\#(access)", "refresh_token": "\#(refresh)", "expires_at": "\#(Self.past)", "scope": "user:inference"}"#
        #expect(try sandbox.cli("add", "--account", "alice", "-a", daemon.socket, stdin: bundle).status == 0)
        try server.revoke(refresh)
        let result = try sandbox.cli("token", "-a", daemon.socket)
        #expect(result.status == 4)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("claude-agent: login_required: the refresh token of account alice was rejected (invalid_grant)"))
        #expect(!result.stderr.contains(access))
        let status = try sandbox.cli("list", "--json", "-a", daemon.socket).stdout
        #expect(status.contains("\"state\": \"login_required\""))
    }

    @Test("the server stopped mid-refresh gives a clear transient error; the agent recovers when it is back")
    func outage() throws {
        let server = try OAuthServer(accessTokenSeconds: 300)
        let sandbox = try Sandbox()
        let daemon = try agent(server, sandbox)
        try addExpired(sandbox, daemon, server, account: "alice")
        try server.resetStats()
        try server.delayTokenEndpoint(seconds: 30)
        let waiting = try sandbox.background(["token", "-a", daemon.socket])
        // Stop the server once the refresh has reached it.
        #expect(try eventually { try server.tokenRequests("refresh_token") == 1 })
        server.peer.stop()
        #expect(try waiting.wait() == 4)
        #expect(waiting.stderr.hasPrefix("claude-agent: refresh_failed: refreshing account alice failed:"), "\(waiting.stderr)")
        let state = try sandbox.cli("list", "--json", "-a", daemon.socket).stdout
        #expect(state.contains("\"state\": \"error: "))

        let restarted = try OAuthServer(accessTokenSeconds: 300, port: server.peer.port, stateDirectory: server.stateDirectory)
        let again = try sandbox.cli("token", "-a", daemon.socket)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try restarted.whoami(again.stdout.trimmingCharacters(in: .newlines)) == "alice")
        withExtendedLifetime(server) {}  // it owns the state directory the restarted server uses
    }

    @Test("logout forgets the account and revokes its refresh token at the provider")
    func logout() throws {
        let server = try OAuthServer(accessTokenSeconds: 30)
        let sandbox = try Sandbox()
        let daemon = try agent(server, sandbox)
        let tokens = try server.obtainTokens(user: "carol")
        let refresh = try #require(tokens["refresh_token"] as? String)
        let bundle = #"{"access_token": "\#(tokens["access_token"] as? String ?? "")", "refresh_token": "\#(refresh)", "expires_in": 30, "scope": "user:inference"}"#
        #expect(try sandbox.cli("add", "--account", "carol", "-a", daemon.socket, stdin: bundle).status == 0)
        let result = try sandbox.cli("logout", "--account", "carol", "-a", daemon.socket)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "Logged out account carol; its refresh token was revoked.\n")
        #expect(try server.refreshError(refresh) == "invalid_grant")
        #expect(try sandbox.cli("token", "-a", daemon.socket).status == 3)
    }

    @Test("a code can be pasted as code#state on a machine without a browser")
    func pastedCode() throws {
        let server = try OAuthServer(accessTokenSeconds: 30)
        let sandbox = try Sandbox()
        let daemon = try agent(server, sandbox)
        let client = AgentClient(socketPath: daemon.socket)
        let start = try client.startLogin(account: "paste", provider: nil, redirectURI: "http://127.0.0.1:9/oauth/callback", scopes: nil)
        let redirect = try Sandbox.runPeer("browser.py", ["--user", "bob", "--password", "bob-password", "--no-callback", start.authorizeURL])
        let location = try #require(redirect.stdout.split(separator: " ").last.map { String($0).trimmingCharacters(in: .newlines) })
        let query = try #require(URLComponents(string: location)?.queryItems)
        let code = try #require(query.first { $0.name == "code" }?.value)
        let state = try #require(query.first { $0.name == "state" }?.value)
        let outcome = try client.completeLogin(state: state, code: code)
        #expect(outcome.accountName == "paste")
        #expect(try server.whoami(try client.token().accessToken) == "bob")
        do {
            _ = try client.completeLogin(state: state, code: code)
            Issue.record("a replayed state must be refused")
        } catch {
            #expect(error.code == .invalidState)
        }
        _ = code + "#" + state  // the CLI accepts this form; PastedCode is unit-tested below
    }

    @Test("credentials files: import Claude Code's file, write rotated tokens back keeping other fields")
    func credentialsFileWriteBack() throws {
        let server = try OAuthServer(accessTokenSeconds: 300)
        let sandbox = try Sandbox()
        let daemon = try agent(server, sandbox)
        let tokens = try server.obtainTokens(user: "alice")
        let refresh = try #require(tokens["refresh_token"] as? String)
        let path = sandbox.root + "/.credentials.json"
        // Already expired: the first token call refreshes.
        let expiresMs = Int(Date().timeIntervalSince1970 * 1000) - 60_000
        let original = """
            {"claudeAiOauth": {"accessToken": "\(tokens["access_token"] as? String ?? "")", "refreshToken": "\(refresh)", "expiresAt": \(expiresMs), "scopes": ["user:inference", "user:profile"], "subscriptionType": "max"}, "mcpOAuth": {"keep": [1, 2]}}
            """
        try original.write(toFile: path, atomically: true, encoding: .utf8)
        let add = try sandbox.cli("add", "--from-file", path, "--account", "cc", "--persist", "-a", daemon.socket)
        #expect(add.status == 0, "\(add.stderr)")
        let token = try sandbox.cli("token", "-a", daemon.socket).stdout.trimmingCharacters(in: .newlines)
        #expect(try server.whoami(token) == "alice")
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let oauth = try #require(written?["claudeAiOauth"] as? [String: Any])
        #expect(oauth["accessToken"] as? String == token)
        #expect(oauth["refreshToken"] as? String != refresh)
        #expect(oauth["subscriptionType"] as? String == "max")
        #expect((oauth["expiresAt"] as? Int ?? 0) > expiresMs)
        #expect((written?["mcpOAuth"] as? [String: Any])?["keep"] as? [Int] == [1, 2])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}

@Suite("persisted credentials survive a kill", .serialized)
struct PersistKillTests {
    /// The file must hold the rotated pair by the time any client has the new access token:
    /// a SIGKILL the moment the answer arrives must not cost the account its login.
    @Test("a refresh that persists, then SIGKILL right after the answer: the file holds the new pair, which the provider accepts")
    func killAfterAnswer() throws {
        let server = try OAuthServer(accessTokenSeconds: 30)
        let sandbox = try Sandbox()
        let config = try server.writeConfig(in: sandbox)
        let daemon = try sandbox.startDaemon(["--config", config, "--skew", "1"])
        let tokens = try server.obtainTokens(user: "alice")
        let refresh = try #require(tokens["refresh_token"] as? String)
        let path = sandbox.root + "/.credentials.json"
        // Expired already, so the first token.get refreshes.
        let expiredMs = Int(Date().timeIntervalSince1970 * 1000) - 60_000
        try """
            {"claudeAiOauth": {"accessToken": "\(tokens["access_token"] as? String ?? "")", "refreshToken": "\(refresh)", "expiresAt": \(expiredMs), "scopes": ["user:inference", "user:profile"]}, "other": 1}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let connection = try RawConnection(path: daemon.socket)
        let imported = try connection.call(#"{"id": 1, "op": "account.import", "path": "\#(path)", "account": "cc", "persist": true}"#)
        #expect(imported["ok"] as? Bool == true, "\(imported)")
        let answer = try connection.call(#"{"id": 2, "op": "token.get"}"#)
        kill(daemon.process.processIdentifier, SIGKILL)
        daemon.process.waitUntilExit()
        let token = try #require(answer.result?["access_token"] as? String, "\(answer)")
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let oauth = try #require(written?["claudeAiOauth"] as? [String: Any])
        #expect(oauth["accessToken"] as? String == token)
        let rotated = try #require(oauth["refreshToken"] as? String)
        #expect(rotated != refresh)
        #expect(written?["other"] as? Int == 1)
        #expect(try server.whoami(token) == "alice")
        // The provider takes the written refresh token; the one it replaced is spent.
        #expect(try server.refreshError(rotated) == nil)
        #expect(try server.refreshError(refresh) != nil)
    }
}
