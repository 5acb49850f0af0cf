import Foundation
import Testing

/// Items of "refresh that survives real providers" that the real OAuth server
/// (django-oauth-toolkit) can show by itself.
@Suite("Refresh against a real server: short lifetimes, tokens revoked early", .serialized)
struct RealProviderRefreshTests {
    @Test("tokens granted for 4 s under the default 60 s skew: the fresh token is handed out, and it works")
    func shortLivedTokensWithDefaultSkew() throws {
        let server = try OAuthServer(accessTokenSeconds: 4)
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon(["--config", try server.writeConfig(in: sandbox)])
        let tokens = try server.obtainTokens(user: "alice")
        let refresh = try #require(tokens["refresh_token"] as? String)
        let added = #"{"access_token": "\#(tokens["access_token"] as? String ?? "")", "refresh_token": "\#(refresh)", "expires_in": 4, "scope": "user:inference"}"#
        #expect(try sandbox.cli("add", "--account", "alice", "-a", daemon.socket, stdin: added).status == 0)
        try server.resetStats()
        let token = try sandbox.cli("token", "-a", daemon.socket)
        #expect(token.status == 0, "\(token.stderr)")
        let fresh = token.stdout.trimmingCharacters(in: .newlines)
        #expect(try server.whoami(fresh) == "alice")
        // Within the first half of its 4 s life the same token is handed out again.
        #expect(try sandbox.cli("token", "-a", daemon.socket).stdout == token.stdout)
        #expect(try server.tokenRequests("refresh_token") == 1)
    }

    @Test("the API refuses a token that has not expired: token --refresh gets a new one that works")
    func refusedEarly() throws {
        let server = try OAuthServer(accessTokenSeconds: 300)
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon(["--config", try server.writeConfig(in: sandbox)])
        let tokens = try server.obtainTokens(user: "bob")
        let refresh = try #require(tokens["refresh_token"] as? String)
        // An access token the server no longer knows (revoked early, in real life; revoking
        // one at django-oauth-toolkit kills its refresh token too, so a dead one stands in).
        let dead = "at-revoked-early"
        let added = #"{"access_token": "\#(dead)", "refresh_token": "\#(refresh)", "expires_in": 300, "scope": "user:inference"}"#
        #expect(try sandbox.cli("add", "--account", "bob", "-a", daemon.socket, stdin: added).status == 0)
        #expect(try server.whoami(dead) == nil)
        // Without --refresh the agent cannot know: it hands out the refused token until its expiry.
        #expect(try sandbox.cli("token", "-a", daemon.socket).stdout == dead + "\n")
        let renewed = try sandbox.cli("token", "--refresh", "-a", daemon.socket)
        #expect(renewed.status == 0, "\(renewed.stderr)")
        let fresh = renewed.stdout.trimmingCharacters(in: .newlines)
        #expect(fresh != dead)
        #expect(try server.whoami(fresh) == "bob")
        #expect(try sandbox.cli("token", "-a", daemon.socket).stdout == renewed.stdout)
        #expect(try server.refreshError(refresh) == "invalid_grant")
    }
}
