import Foundation
import Testing

@Suite("add, list, remove, token, lock, lifetime: the CLI against a real agent")
struct TokenCommandTests {
    @Test("token prints only the access token; --header and --json the other forms")
    func tokenForms() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let socket = daemon.socket
        let add = try sandbox.cli("add", "--account", "work", "-a", socket, stdin: bundle("tok-A", refresh: "refresh-A"))
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stderr.hasPrefix("Added account work (#1), token SHA256:"))
        #expect(!add.stderr.contains("tok-A") && !add.stderr.contains("refresh-A"))

        let plain = try sandbox.cli("token", "-a", socket)
        #expect(plain.status == 0 && plain.stdout == "tok-A\n" && plain.stderr.isEmpty)
        // A refreshable bundle belongs to the default provider, claude, whose tokens need
        // the OAuth beta header; every header line is printed, Authorization first.
        let header = try sandbox.cli("token", "--header", "-a", socket)
        #expect(header.stdout == "Authorization: Bearer tok-A\nanthropic-beta: oauth-2025-04-20\n")
        let json = try sandbox.cli("token", "--json", "--scope", "user:inference", "-a", socket)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["access_token"] as? String == "tok-A")
        #expect(object["scope"] as? String == "user:inference user:profile")
        #expect(object["account"] as? String == "work")
        #expect(object["refresh_token"] == nil)
        #expect(object["headers"] as? [String: String] == ["anthropic-beta": "oauth-2025-04-20"])
        #expect(!json.stdout.contains("refresh-A"))

        // A bare access token has no provider, so no provider headers either.
        try sandbox.cli("add", "--account", "bare", "-a", socket, stdin: "{\"access_token\": \"tok-bare\"}")
        #expect(try sandbox.cli("token", "--header", "--account", "bare", "-a", socket).stdout == "Authorization: Bearer tok-bare\n")
        #expect(try sandbox.cli("token", "--json", "--account", "bare", "-a", socket).stdout.contains("\"headers\":{}"))
    }

    @Test("scopes select the account whose token covers them; none covering is no_token, exit 3")
    func scopeSelection() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        try sandbox.cli("add", "--account", "narrow", "-a", socket, stdin: bundle("tok-narrow", scopes: "user:profile"))
        try sandbox.cli("add", "--account", "wide", "-a", socket, stdin: bundle("tok-wide", scopes: "user:profile user:inference"))
        #expect(try sandbox.cli("token", "--scope", "user:profile", "-a", socket).stdout == "tok-narrow\n")
        #expect(try sandbox.cli("token", "--scope", "user:inference", "-a", socket).stdout == "tok-wide\n")
        #expect(try sandbox.cli("token", "--account", "2", "-a", socket).stdout == "tok-wide\n")
        let none = try sandbox.cli("token", "--scope", "org:admin", "-a", socket)
        #expect(none.status == 3)
        #expect(none.stderr == "claude-agent: no_token: no token held covering [org:admin]\n")
        let missing = try sandbox.cli("token", "--account", "nobody", "-a", socket)
        #expect(missing.status == 3)
        #expect(missing.stderr == "claude-agent: not_found: no account nobody\n")
    }

    // An expired token (or one inside the skew) is never returned: the agent's answer is
    // tested in process under a fake clock (ExpiredTokenTests), the CLI's exit 4 and
    // message in CommandLineContractTests.exitExpired, so that no test waits for a token
    // to lapse.

    @Test("list shows accounts without secrets; remove forgets one")
    func listAndRemove() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        #expect(try sandbox.cli("list", "-a", socket).stdout == "The agent has no accounts.\n")
        try sandbox.cli("add", "--account", "work", "--account-id", "7", "-a", socket, stdin: bundle("tok-secret", refresh: "ref-secret"))
        let list = try sandbox.cli("list", "-a", socket)
        #expect(list.stdout.hasPrefix("ID  ACCOUNT  EXPIRES"))
        #expect(list.stdout.contains("7   work "))
        #expect(!list.stdout.contains("secret"))
        let json = try sandbox.cli("list", "--json", "-a", socket)
        #expect(!json.stdout.contains("secret"))
        #expect(json.stdout.contains("\"has_refresh_token\": true"))
        #expect(try sandbox.cli("remove", "work", "-a", socket).status == 0)
        #expect(try sandbox.cli("token", "-a", socket).status == 3)
        let again = try sandbox.cli("remove", "work", "-a", socket)
        #expect(again.status == 3 && again.stderr == "claude-agent: not_found: no account work\n")
    }

    @Test("a bad bundle is a clear bad_request and adds nothing")
    func badBundles() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        let notJSON = try sandbox.cli("add", "--account", "x", "-a", socket, stdin: "nope")
        #expect(notJSON.status == 2 && notJSON.stderr.hasPrefix("claude-agent: bad_request: the token bundle on stdin is not valid JSON"))
        let noToken = try sandbox.cli("add", "--account", "x", "-a", socket, stdin: #"{"token_type": "Bearer"}"#)
        #expect(noToken.stderr == "claude-agent: bad_request: field \"access_token\" must be present and a string\n")
        let badDate = try sandbox.cli("add", "--account", "x", "-a", socket, stdin: #"{"access_token": "t", "expires_at": "tomorrow"}"#)
        #expect(badDate.stderr.contains("expires_at"))
        let badName = try sandbox.cli("add", "--account", "a b", "-a", socket, stdin: #"{"access_token": "t"}"#)
        #expect(badName.status == 2 && badName.stderr.contains("may hold only ASCII letters"))
        let noName = try sandbox.cli("add", "-a", socket, stdin: #"{"access_token": "t"}"#)
        #expect(noName.status == 2)
        #expect(try sandbox.cli("list", "-a", socket).stdout == "The agent has no accounts.\n")
    }

    @Test("lock hands out nothing until unlock with the right passphrase")
    func lockAndUnlock() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        try sandbox.cli("add", "--account", "work", "-a", socket, stdin: bundle("tok-L"))
        #expect(try sandbox.cli("lock", "-a", socket, stdin: "hunter2\n").status == 0)
        let locked = try sandbox.cli("token", "-a", socket)
        #expect(locked.status == 5 && locked.stderr.hasPrefix("claude-agent: locked:"))
        #expect(try sandbox.cli("list", "-a", socket).status == 5)
        let status = try sandbox.cli("status", "-a", socket)
        #expect(status.status == 0 && status.stdout.contains("locked    yes"))
        let wrong = try sandbox.cli("unlock", "-a", socket, stdin: "wrong\n")
        #expect(wrong.status == 6 && wrong.stderr == "claude-agent: denied: wrong passphrase\n")
        #expect(try sandbox.cli("unlock", "-a", socket, stdin: "hunter2\n").status == 0)
        #expect(try sandbox.cli("token", "-a", socket).stdout == "tok-L\n")
        let notLocked = try sandbox.cli("unlock", "-a", socket, stdin: "hunter2\n")
        #expect(notLocked.status == 7 && notLocked.stderr.hasPrefix("claude-agent: not_locked:"))
    }

    /// The forgetting itself is the agent's rule, checked in process on a clock advanced
    /// by hand (AgentClockTests: lifetimeExpiry, defaultLifetime). What only the real
    /// daemon and CLI can show is that `claude-agentd -t` and `add -t` reach that rule:
    /// each account's `forget_at` is its lifetime after the moment it was added.
    @Test("-t sets when added tokens are forgotten: the agent's for an account added without one, add's own otherwise")
    func lifetime() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon(["-t", "600"]).socket
        let before = Int64(Date().timeIntervalSince1970.rounded(.down))
        try sandbox.cli("add", "--account", "brief", "-a", socket, stdin: bundle("tok-brief"))
        try sandbox.cli("add", "--account", "longer", "-t", "30", "-a", socket, stdin: bundle("tok-longer", scopes: "user:profile"))
        let after = Int64(Date().timeIntervalSince1970.rounded(.up))
        #expect(try sandbox.cli("token", "--account", "brief", "-a", socket).stdout == "tok-brief\n")
        let listed = try sandbox.cli("list", "--json", "-a", socket)
        let accounts = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]], "\(listed.stdout)")
        func forgetAt(_ name: String) throws -> Int64 {
            let account = try #require(accounts.first { $0["account"] as? String == name }, "\(listed.stdout)")
            let text = try #require(account["forget_at"] as? String, "\(name) has no forget_at: \(listed.stdout)")
            let moment = try #require(ISO8601DateFormatter().date(from: text), "forget_at \(text)")
            return Int64(moment.timeIntervalSince1970)
        }
        #expect((before + 600...after + 600).contains(try forgetAt("brief")))
        #expect((before + 30...after + 30).contains(try forgetAt("longer")))
    }

    @Test("client commands without an agent exit 1; usage errors exit 2; --help and --version need no agent")
    func exitCodes() throws {
        let sandbox = try Sandbox()
        let none = try sandbox.cli("token")
        #expect(none.status == 1)
        #expect(none.stderr.hasPrefix("claude-agent: agent_not_running: no agent at \(sandbox.defaultSocket)"))
        let usage = try sandbox.cli("token", "--bogus")
        #expect(usage.status == 2 && usage.stderr.contains("unknown option --bogus"))
        #expect(try sandbox.cli("frobnicate").status == 2)
        let version = try sandbox.cli("--version")
        #expect(version.status == 0 && version.stdout == "claude-agent 0.1.0\n")
        let help = try sandbox.cli("token", "--help")
        #expect(help.status == 0 && help.stdout.contains("exit codes:"))
        #expect(try sandbox.run(Binaries.daemon, ["--version"]).stdout == "claude-agentd 0.1.0\n")
    }
}
