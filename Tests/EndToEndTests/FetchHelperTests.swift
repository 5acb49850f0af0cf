import Foundation
import Testing

/// The agent makes its HTTPS exchanges through claude-agent-fetch, one child each, and
/// itself maps no HTTP or TLS library.
@Suite("The agent's HTTPS helper")
struct FetchHelperTests {
    /// A configuration whose token endpoint is HTTPS (which only the helper speaks; plain
    /// HTTP to loopback the agent sends itself) on a port where nothing listens: these
    /// tests never get as far as the network.
    func writeConfig(in sandbox: Sandbox) throws -> String {
        let path = sandbox.root + "/config.json"
        try """
            {"default_provider": "test",
             "providers": {"test": {"client_id": "claude-agent-test", "authorize_url": "http://127.0.0.1:9/o/authorize/",
               "token_url": "https://127.0.0.1:9/o/token/", "scopes": ["user:inference"]}}}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the helper's command line goes through the shared parser: --help, --version, and a usage error for anything else")
    func commandLine() throws {
        let sandbox = try Sandbox()
        let fetch = Binaries.directory + "/claude-agent-fetch"
        let help = try sandbox.run(fetch, ["--help"])
        #expect(help.status == 0 && help.stdout.hasPrefix("usage: claude-agent-fetch < REQUEST\n"))
        let version = try sandbox.run(fetch, ["-V"])
        #expect(version.status == 0 && version.stdout.hasPrefix("claude-agent-fetch "))
        let extra = try sandbox.run(fetch, ["extra"])
        #expect(extra.status == 2)
        #expect(extra.stderr == "claude-agent-fetch: usage: unexpected argument \"extra\" (see 'claude-agent-fetch --help')\n")
    }

    @Test("the agent maps no Foundation, libcurl or TLS library, and no shared Swift runtime")
    func noHTTPLibraries() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let maps = try String(contentsOfFile: "/proc/\(daemon.process.processIdentifier)/maps", encoding: .utf8)
        for library in ["Foundation", "libcurl", "libssl", "libcrypto", "libgnutls", "libswiftCore", "libdispatch"] {
            #expect(!maps.contains(library), "claude-agentd maps \(library)")
        }
    }

    @Test("a missing, failing or crashing helper is a clean refresh_failed, and the agent serves on", arguments: [
        ("/nonexistent/claude-agent-fetch", "cannot run claude-agent-fetch: posix_spawn /nonexistent/claude-agent-fetch: No such file or directory"),
        ("exit 1", "claude-agent-fetch failed: exited with status 1"),
        ("kill -SEGV $$", "claude-agent-fetch failed: killed by signal 11"),
    ])
    func brokenHelper(helper: String, reason: String) throws {
        let sandbox = try Sandbox()
        var path = helper
        if !helper.hasPrefix("/") {
            path = sandbox.root + "/broken-fetch"
            try "#!/bin/sh\n\(helper)\n".write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let daemon = try sandbox.startDaemon(["--config", try writeConfig(in: sandbox), "--fetch-helper", path])
        // Expired (within the default 60 s skew) and refreshable: `token` must refresh.
        let stale = #"{"access_token": "at-stale-secret", "refresh_token": "rt-secret", "expires_in": 5, "scope": "user:inference"}"#
        #expect(try sandbox.cli("add", "--account", "alice", "-a", daemon.socket, stdin: stale).status == 0)

        let token = try sandbox.cli("token", "-a", daemon.socket)
        #expect(token.status == 4)
        #expect(token.stderr.hasPrefix("claude-agent: refresh_failed: refreshing account alice failed:"), "\(token.stderr)")
        #expect(token.stderr.contains("token endpoint https://127.0.0.1:9/o/token/ not reached: \(reason)"), "\(token.stderr)")
        #expect(!token.stderr.contains("secret"))

        // The agent is still there and still hands out tokens it holds.
        #expect(try sandbox.cli("status", "-a", daemon.socket).status == 0)
        let fresh = #"{"access_token": "at-fresh", "expires_in": 3600, "scope": "user:inference"}"#
        #expect(try sandbox.cli("add", "--account", "bob", "-a", daemon.socket, stdin: fresh).status == 0)
        let bob = try sandbox.cli("token", "--account", "bob", "-a", daemon.socket)
        #expect(bob.status == 0)
        #expect(bob.stdout == "at-fresh\n")

        #expect(daemon.stop() == 0)
        #expect(!daemon.logText.contains("secret"))
    }
}
