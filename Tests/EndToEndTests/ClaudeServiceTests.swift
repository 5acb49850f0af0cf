import ClaudeAgentClient
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Tests/Peers/claude_mock.py: a strict stand-in for Claude's OAuth service and Messages API.
final class ClaudeMock {
    let peer: PeerProcess

    init(accessTokenSeconds: Int = 28800, refreshTokenSeconds: Int = 0) throws {
        peer = try PeerProcess("claude_mock.py", ["--port", "0", "--access-token-seconds", String(accessTokenSeconds),
                                                  "--refresh-token-seconds", String(refreshTokenSeconds)])
    }

    var url: String { peer.url }

    /// Only the built-in provider's URLs are overridden: everything else is the
    /// built-in `claude` provider as shipped (client id, scopes, redirects, headers).
    func environment() -> [String: String] {
        ["CLAUDE_AGENT_AUTHORIZE_URL": url + "/cai/oauth/authorize", "CLAUDE_AGENT_TOKEN_URL": url + "/v1/oauth/token"]
    }

    func stats() throws -> [String: Any] {
        let (_, body) = try HTTP.send(URLRequest(url: URL(string: url + "/test/stats")!))
        return try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
    }

    func tokenRequests(_ grant: String) throws -> Int {
        (try stats()["token_requests"] as? [String: Any])?[grant] as? Int ?? -1
    }
}

/// The agent against Claude's service as public sources describe it (the mock), with
/// the real tools: curl, the anthropic SDK from PyPI, and a command run by exec.
@Suite("The built-in claude provider against Claude's service", .serialized)
struct ClaudeServiceTests {
    func agent(_ mock: ClaudeMock, _ sandbox: Sandbox, extra: [String] = []) throws -> Daemon {
        sandbox.environment.merge(mock.environment()) { _, new in new }
        return try sandbox.startDaemon(extra)
    }

    /// A login in the manual flow: --no-browser, the service's code page, `code#state`
    /// pasted on the login's stdin.
    func pasteLogin(_ sandbox: Sandbox, socket: String, account: String) throws -> CommandResult {
        try sandbox.run("/bin/sh", ["-c", """
            d="$(mktemp -d)"; mkfifo "$d/paste"
            claude-agent login --account \(account) --no-browser -a '\(socket)' < "$d/paste" > "$d/out" 2> "$d/err" &
            pid=$!
            exec 3> "$d/paste"
            i=0; while [ ! -s "$d/out" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
            head -n1 "$d/out"
            line=$('\(Repository.python)' '\(Repository.peers)/claude_user.py' "$(head -n1 "$d/out")")
            echo "$line"
            echo "${line#PASTE }" >&3
            wait $pid; echo "login-status $?"
            cat "$d/err" >&2; rm -rf "$d"
            """], environment: ["PATH": Binaries.directory + ":/usr/bin:/bin"], timeout: 60)
    }

    @Test("--no-browser: the authorize URL has code=true first, Claude Code's scopes and the code page; pasting code#state logs in")
    func pasteFlow() throws {
        let mock = try ClaudeMock(refreshTokenSeconds: 30 * 86400)
        let sandbox = try Sandbox()
        let daemon = try agent(mock, sandbox)
        let result = try pasteLogin(sandbox, socket: daemon.socket, account: "work")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let url = try #require(lines.first)
        #expect(url.hasPrefix(mock.url + "/cai/oauth/authorize?code=true&client_id=9d1c250a-e61b-44d9-88ed-5944d1962f5e&response_type=code"))
        #expect(url.contains("&redirect_uri=https%3A%2F%2Fplatform.claude.com%2Foauth%2Fcode%2Fcallback&"))
        #expect(url.contains("&scope=org%3Acreate_api_key%20user%3Aprofile%20user%3Ainference%20user%3Asessions%3Aclaude_code%20user%3Amcp_servers%20user%3Afile_upload&"))
        #expect(lines.count == 3 && lines[1].hasPrefix("PASTE ") && lines[1].contains("#"), "\(result.stdout) \(result.stderr)")
        #expect(lines.last == "login-status 0", "\(result.stderr)")
        #expect(result.stderr.contains("Then paste the code it shows here"))
        #expect(result.stderr.contains("Logged in account work (#1), token SHA256:"))
        #expect(try mock.tokenRequests("authorization_code") == 1)

        // list shows who the account is and when its refresh token lapses; never a secret.
        let list = try sandbox.cli("list", "--json", "-a", daemon.socket).stdout
        #expect(list.contains("\"email\": \"alice@example.com\""))
        #expect(list.contains("\"organization\": \"Example Org\""))
        #expect(list.contains("\"organization_uuid\": \"7e9d8c6b-0000-4000-8000-0000000000e0\""))
        #expect(list.contains("\"refresh_expires_at\": \"20"))
        #expect(!list.contains("sk-ant-"))
        let table = try sandbox.cli("list", "-a", daemon.socket).stdout
        #expect(table.contains("alice@example.com (Example Org)"))
    }

    @Test("with a display: the localhost /callback redirect reaches the login's listener; token --header works with curl")
    func automaticFlowAndCurl() throws {
        let mock = try ClaudeMock()
        let sandbox = try Sandbox()
        let daemon = try agent(mock, sandbox)
        // A stand-in xdg-open: the "browser" records the URL it was asked to open.
        let bin = sandbox.root + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try "#!/bin/sh\nprintf '%s\\n' \"$1\" > '\(sandbox.root)/opened'\n".write(toFile: bin + "/xdg-open", atomically: true, encoding: .utf8)
        chmod(bin + "/xdg-open", 0o755)
        let login = try sandbox.background(["login", "--account", "work", "-a", daemon.socket],
                                           environment: ["DISPLAY": ":99", "PATH": bin + ":/usr/bin:/bin"])
        let url = try login.firstLine()
        #expect(try eventually { FileManager.default.fileExists(atPath: sandbox.root + "/opened") })
        #expect(try String(contentsOfFile: sandbox.root + "/opened", encoding: .utf8) == url + "\n")
        #expect(url.contains("&redirect_uri=http%3A%2F%2Flocalhost%3A"))
        #expect(url.contains("%2Fcallback&"))
        let browser = try Sandbox.runPeer("claude_user.py", [url])
        #expect(browser.status == 0, "\(browser.stdout) \(browser.stderr)")
        #expect(browser.stdout.hasPrefix("CALLBACK 200 http://localhost:"))
        #expect(try login.wait() == 0, "\(login.stderr)")

        let header = try sandbox.cli("token", "--header", "-a", daemon.socket).stdout
        let lines = header.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].hasPrefix("Authorization: Bearer sk-ant-oat01-") && lines[1] == "anthropic-beta: oauth-2025-04-20")
        let json = try sandbox.cli("token", "--json", "-a", daemon.socket).stdout
        #expect(json.contains("\"headers\":{\"anthropic-beta\":\"oauth-2025-04-20\"}"))

        // The README's curl line, against a server that requires the beta header.
        let curl = """
            curl -sS -w '\\n%{http_code}\\n' \(mock.url)/v1/messages -H @<(claude-agent token --header -a '\(daemon.socket)' HEADERS) \
              -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' \
              -d '{"model": "claude-sonnet-4-6", "max_tokens": 64, "messages": [{"role": "user", "content": "Hello"}]}'
            """
        let ok = try sandbox.run("/bin/bash", ["-c", curl.replacingOccurrences(of: " HEADERS", with: "")],
                                 environment: ["PATH": Binaries.directory + ":/usr/bin:/bin"])
        #expect(ok.stdout.hasSuffix("\n200\n"), "\(ok.stdout) \(ok.stderr)")
        #expect(ok.stdout.contains("Hello from the mock."))
        // Authorization alone is what the service refuses.
        let bare = try sandbox.run("/bin/bash", ["-c", curl.replacingOccurrences(of: " HEADERS", with: " | head -n1")],
                                   environment: ["PATH": Binaries.directory + ":/usr/bin:/bin"])
        #expect(bare.stdout.contains("OAuth authentication is currently not supported."))
        #expect(bare.stdout.hasSuffix("\n401\n"))
    }

    @Test("RFC 8252's 127.0.0.1/oauth/callback is refused by Claude's service with its wording")
    func unregisteredRedirectRefused() throws {
        let mock = try ClaudeMock()
        let sandbox = try Sandbox()
        sandbox.environment["CLAUDE_AGENT_REDIRECT_URI"] = "http://127.0.0.1/oauth/callback"
        let daemon = try agent(mock, sandbox)
        let login = try sandbox.background(["login", "--account", "work", "-a", daemon.socket, "--timeout", "5"],
                                           environment: ["DISPLAY": ":99"])
        let url = try login.firstLine()
        let browser = try Sandbox.runPeer("claude_user.py", [url])
        #expect(browser.status == 1)
        #expect(browser.stderr.contains("Redirect URI http://127.0.0.1:"))
        #expect(browser.stderr.contains("/oauth/callback is not supported by client."))
        #expect(try login.wait() == 6)
    }

    @Test("a refresh posts JSON with the rotating refresh token, which the service accepts once")
    func refreshAndSDK() throws {
        let mock = try ClaudeMock(accessTokenSeconds: 3)
        let sandbox = try Sandbox()
        let daemon = try agent(mock, sandbox, extra: ["--skew", "1"])
        #expect(try pasteLogin(sandbox, socket: daemon.socket, account: "work").stdout.hasSuffix("login-status 0\n"))
        let first = try sandbox.cli("token", "-a", daemon.socket).stdout
        // Counted from here: on a slow machine the first token may already have needed one.
        let before = try mock.tokenRequests("refresh_token")
        // The mock's 3 s token runs out on the wall clock: wait for that moment.
        try waitUntilTokenExpires(sandbox, socket: daemon.socket, skewSeconds: 1)
        let second = try sandbox.cli("token", "--json", "-a", daemon.socket)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!second.stdout.contains(first.trimmingCharacters(in: .newlines)))
        #expect(try mock.tokenRequests("refresh_token") == before + 1)
        #expect(try mock.stats()["token_refused"] as? Int == 0)
    }

    @Test("the real anthropic SDK from PyPI gets 200 with token --json's token and headers, 401 without the headers")
    func anthropicSDK() throws {
        let mock = try ClaudeMock()
        let sandbox = try Sandbox()
        let daemon = try agent(mock, sandbox)
        #expect(try pasteLogin(sandbox, socket: daemon.socket, account: "work").stdout.hasSuffix("login-status 0\n"))
        let token = try sandbox.cli("token", "--json", "-a", daemon.socket)
        #expect(token.status == 0, "\(token.stderr)")
        let sdk = try sandbox.run(Repository.python, [Repository.peers + "/sdk_call.py", "--base-url", mock.url], stdin: token.stdout)
        #expect(sdk.stdout == "OK Hello from the mock.\n", "\(sdk.stderr)")
        let noHeaders = try sandbox.run(Repository.python, [Repository.peers + "/sdk_call.py", "--base-url", mock.url, "--no-headers"],
                                        stdin: token.stdout)
        #expect(noHeaders.stdout == "ERROR 401 OAuth authentication is currently not supported.\n")
        #expect(noHeaders.status == 1)
    }

    @Test("exec: the command gets CLAUDE_CODE_OAUTH_TOKEN, not the variables that would shadow it; its exit status is ours; no token in argv")
    func exec() throws {
        let mock = try ClaudeMock()
        let sandbox = try Sandbox()
        let daemon = try agent(mock, sandbox)
        #expect(try pasteLogin(sandbox, socket: daemon.socket, account: "work").stdout.hasSuffix("login-status 0\n"))
        // The expected token goes through a file: the script is the shell's argv.
        try sandbox.cli("token", "-a", daemon.socket).stdout.write(toFile: sandbox.root + "/expected", atomically: true, encoding: .utf8)
        let script = """
            test "$CLAUDE_CODE_OAUTH_TOKEN" = "$(cat '\(sandbox.root)/expected')" || exit 10
            test -z "${ANTHROPIC_API_KEY+set}${ANTHROPIC_AUTH_TOKEN+set}" || exit 11
            tr '\\0' ' ' < /proc/$$/cmdline | grep -q 'sk-[a]nt-' && exit 12
            curl -s -o /dev/null -w '%{http_code}' \(mock.url)/v1/messages -H "Authorization: Bearer $CLAUDE_CODE_OAUTH_TOKEN" \
              -H 'anthropic-beta: oauth-2025-04-20' -H 'anthropic-version: 2023-06-01' \
              -d '{"model": "m", "max_tokens": 1, "messages": []}'
            exit 42
            """
        let result = try sandbox.run(Binaries.cli, ["exec", "-a", daemon.socket, "--", "/bin/sh", "-c", script],
                                     environment: ["ANTHROPIC_API_KEY": "sk-ant-api-shadow", "ANTHROPIC_AUTH_TOKEN": "shadow"])
        #expect(result.status == 42, "\(result.stderr)")
        #expect(result.stdout == "200")
        let missing = try sandbox.cli("exec", "-a", daemon.socket, "no-such-command-here")
        #expect(missing.status == 127)
        let usage = try sandbox.cli("exec", "-a", daemon.socket)
        #expect(usage.status == 2)
        let warned = try sandbox.run(Binaries.cli, ["exec", "-a", daemon.socket, "true"], environment: ["CLAUDE_CODE_USE_BEDROCK": "1"])
        #expect(warned.status == 0 && warned.stderr.contains("CLAUDE_CODE_USE_BEDROCK is set"))
    }

    @Test("--persist: a refresh writes Claude Code's file back byte for byte but for our values, refreshTokenExpiresAt in ms")
    func writeBack() throws {
        let mock = try ClaudeMock(accessTokenSeconds: 3, refreshTokenSeconds: 3600)
        let sandbox = try Sandbox()
        let daemon = try agent(mock, sandbox, extra: ["--skew", "1"])
        #expect(try pasteLogin(sandbox, socket: daemon.socket, account: "seed").stdout.hasSuffix("login-status 0\n"))
        // A realistic Claude Code file holding a live refresh token of its own (another
        // login at the mock): minified, with numbers and escapes no serializer of ours
        // writes, and mcpOAuth beside ours.
        let seed = try Self.directGrant(mock)
        let path = sandbox.root + "/.credentials.json"
        let original = #"{"claudeAiOauth":{"accessToken":"\#(seed.access)","refreshToken":"\#(seed.refresh)","expiresAt":1000,"scopes":["user:inference","user:profile"],"subscriptionType":"max","rateLimitTier":"default_claude_max_20x"},"mcpOAuth":{"linear|5f2a":{"serverUrl":"https:\/\/mcp.linear.app\/sse","expiresAt":1.7950036e12,"ratio":0.10,"tiny":1e-7,"name":"caf\u00e9 \ud83d\ude00"}}}"#
        try original.write(toFile: path, atomically: true, encoding: .utf8)
        let add = try sandbox.cli("add", "--from-file", path, "--account", "cc", "--persist", "-a", daemon.socket)
        #expect(add.status == 0, "\(add.stderr)")
        let refreshed = try sandbox.cli("token", "--account", "cc", "-a", daemon.socket)
        #expect(refreshed.status == 0, "\(refreshed.stderr)")
        let written = try String(contentsOfFile: path, encoding: .utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: Any])
        let ours = try #require(object["claudeAiOauth"] as? [String: Any])
        let access = try #require(ours["accessToken"] as? String)
        let refresh = try #require(ours["refreshToken"] as? String)
        let expiresAt = try #require(ours["expiresAt"] as? Int)
        let lapses = try #require(ours["refreshTokenExpiresAt"] as? Int)
        #expect(access == refreshed.stdout.trimmingCharacters(in: .newlines))
        #expect(refresh != seed.refresh)
        #expect(lapses > expiresAt && lapses % 1000 == 0 && expiresAt % 1000 == 0)
        let expected = original
            .replacingOccurrences(of: seed.access, with: access)
            .replacingOccurrences(of: seed.refresh, with: refresh)
            .replacingOccurrences(of: "\"expiresAt\":1000,", with: "\"expiresAt\":\(expiresAt),")
            .replacingOccurrences(of: "\"rateLimitTier\":\"default_claude_max_20x\"}",
                                  with: "\"rateLimitTier\":\"default_claude_max_20x\",\"refreshTokenExpiresAt\":\(lapses)}")
        #expect(written == expected)
    }

    /// Tokens from the mock without the agent: a code exchange made by hand, as another
    /// Claude Code on this machine would have done.
    static func directGrant(_ mock: ClaudeMock) throws -> (access: String, refresh: String) {
        let result = try Sandbox.runPeer("claude_user.py", ["--grant", mock.url])
        let parts = result.stdout.split(separator: " ").map(String.init)
        guard result.status == 0, parts.count == 3, parts[0] == "GRANT" else { throw TestFailure("no grant: \(result.stderr)") }
        return (parts[1], parts[2].trimmingCharacters(in: .newlines))
    }

    @Test("login.start refuses a redirect the provider did not register with bad_request; manual gives the code page")
    func redirectRefusals() throws {
        let mock = try ClaudeMock()
        let sandbox = try Sandbox()
        let daemon = try agent(mock, sandbox)
        let client = AgentClient(socketPath: daemon.socket)
        for uri in ["http://127.0.0.1:5000/oauth/callback", "http://localhost:5000/oauth/callback", "https://evil.example/callback",
                    "http://[::1]:5000/callback", "http://localhost/callback"] {
            do {
                _ = try client.startLogin(account: "x", provider: nil, redirectURI: uri, scopes: nil)
                Issue.record("\(uri) was accepted")
            } catch {
                #expect(error.code == .badRequest, "\(uri)")
            }
        }
        do {
            _ = try client.startLogin(account: "x", provider: nil, scopes: nil)
            Issue.record("a login with no redirect to serve was accepted")
        } catch {
            #expect(error.code == .badRequest)
        }
        let fitting = try client.startLogin(account: "x", provider: nil, redirectURI: "http://localhost:5000/callback", scopes: nil)
        #expect(fitting.redirectURI == "http://localhost:5000/callback" && !fitting.paste)
        let manual = try client.startLogin(account: "x", provider: nil, manual: true, scopes: nil)
        #expect(manual.redirectURI == "https://platform.claude.com/oauth/code/callback" && manual.paste)
        let provider = try client.provider(named: nil)
        #expect(provider.redirectURI == "http://localhost/callback" && !provider.paste)
        #expect(provider.manualRedirectURI == "https://platform.claude.com/oauth/code/callback")
    }

    @Test("status warns a day before a refresh token lapses")
    func refreshExpiryWarning() throws {
        let mock = try ClaudeMock(refreshTokenSeconds: 3600)
        let sandbox = try Sandbox()
        let daemon = try agent(mock, sandbox)
        #expect(try pasteLogin(sandbox, socket: daemon.socket, account: "work").stdout.hasSuffix("login-status 0\n"))
        let status = try sandbox.cli("status", "-a", daemon.socket).stdout
        #expect(status.contains("warning: account work: its refresh token lapses at "), "\(status)")
        #expect(status.contains("run claude-agent login --account work before then"))
        let json = try sandbox.cli("status", "--json", "-a", daemon.socket).stdout
        #expect(json.contains("\"warnings\": ["))
        // The log says it too, once, as soon as the login brought the token.
        #expect(daemon.stop() == 0)
        let log = daemon.logText
        #expect(log.components(separatedBy: "account work: its refresh token lapses at ").count == 2, "\(log)")
    }
}
