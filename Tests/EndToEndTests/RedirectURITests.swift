import ClaudeAgentClient
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// A TCP listener on 127.0.0.1 the test holds, to make a port busy.
final class HeldPort {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f000001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0, listen(fd, 8) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw TestFailure("cannot hold a loopback port") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

/// The redirect URI in every authorize URL is one something we run serves: a provider's
/// configured loopback `redirect_uri` is listened on exactly (host, port, path), a busy
/// port is a clear error, and a configured URI without a port takes any free one.
@Suite("configured redirect URIs are served where they point", .serialized)
struct RedirectURITests {
    func agent(_ server: OAuthServer, _ sandbox: Sandbox, redirectURI: String, controlBrowser: String = "http://127.0.0.1:9") throws -> Daemon {
        let config = try server.writeConfig(in: sandbox, controlBrowser: controlBrowser, redirectURI: redirectURI)
        return try sandbox.startDaemon(["--config", config, "--skew", "1"])
    }

    @Test("login listens on the configured fixed port and path, answers bad requests by the bridge's HTTP rules, and the browser's redirect lands there")
    func loginOnTheConfiguredPort() throws {
        let server = try OAuthServer(accessTokenSeconds: 30)
        let sandbox = try Sandbox()
        let port = try freeLoopbackPort()
        let daemon = try agent(server, sandbox, redirectURI: "http://127.0.0.1:\(port)/oauth/callback")
        let login = try sandbox.background(["login", "--account", "alice", "--no-browser", "-a", daemon.socket])
        let url = try login.firstLine()
        #expect(url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A\(port)%2Foauth%2Fcallback"), "\(url)")
        // The listener reads requests with the bridge's codec and keeps waiting after a bad
        // one. Each was read by hand from its request line before: the first two got the page for
        // a foreign state, the POST no answer at all.
        let noHost = try RawHTTP.send(port: port, "GET /oauth/callback?state=x HTTP/1.1\r\n\r\n")
        #expect(noHost?.status == 400 && noHost?.body.contains("Host header") == true, "\(String(describing: noHost))")
        let bareCR = try RawHTTP.send(port: port, "GET /oauth/callback?state=x HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n")
        #expect(bareCR?.status == 400 && bareCR?.body.contains("bare CR") == true, "\(String(describing: bareCR))")
        let post = try RawHTTP.send(port: port, "POST /oauth/callback HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
        #expect(post?.status == 405, "\(String(describing: post))")
        let browser = try Sandbox.runPeer("browser.py", ["--user", "alice", "--password", "alice-password", url])
        #expect(browser.status == 0, "\(browser.stderr)")
        #expect(try login.wait() == 0, "\(login.stderr)")
        #expect(login.stderr.contains("Logged in account alice (#1)"))
    }

    @Test("a configured redirect without a port takes a free one, with the configured path")
    func configuredWithoutPort() throws {
        let server = try OAuthServer(accessTokenSeconds: 30)
        let sandbox = try Sandbox()
        let daemon = try agent(server, sandbox, redirectURI: "http://127.0.0.1/oauth/callback")
        let login = try sandbox.background(["login", "--account", "alice", "--no-browser", "-a", daemon.socket])
        let url = try login.firstLine()
        #expect(url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"), "\(url)")
        let browser = try Sandbox.runPeer("browser.py", ["--user", "alice", "--password", "alice-password", url])
        #expect(browser.status == 0, "\(browser.stderr)")
        #expect(try login.wait() == 0, "\(login.stderr)")
    }

    @Test("a busy configured port is a clear listen_failed, exit 7, before any URL is printed")
    func busyPort() throws {
        let server = try OAuthServer(accessTokenSeconds: 30)
        let sandbox = try Sandbox()
        let held = try HeldPort()
        let uri = "http://127.0.0.1:\(held.port)/oauth/callback"
        let daemon = try agent(server, sandbox, redirectURI: uri)
        for command in [["login", "--no-browser"], ["approve", "00000000-0000-4000-8000-000000000000", "--account", "1"]] {
            let result = try sandbox.run(Binaries.cli, command + ["-a", daemon.socket])
            #expect(result.status == 7, "\(command)")
            #expect(result.stdout.isEmpty)
            #expect(result.stderr == "claude-agent: listen_failed: cannot listen for the provider's redirect on the port "
                    + "provider test's redirect_uri \(uri) names: bind 127.0.0.1:\(held.port): Address already in use; "
                    + "another program holds it, so stop that one first\n", "\(command)")
        }
    }

    @Test("--port contradicting the configured port is a usage error; the agent refuses a redirect that does not fit")
    func contradictions() throws {
        let server = try OAuthServer(accessTokenSeconds: 30)
        let sandbox = try Sandbox()
        let port = try freeLoopbackPort()
        let uri = "http://127.0.0.1:\(port)/oauth/callback"
        let daemon = try agent(server, sandbox, redirectURI: uri)
        let other = port == 65535 ? port - 1 : port + 1
        let result = try sandbox.cli("login", "--port", String(other), "-a", daemon.socket)
        #expect(result.status == 2)
        #expect(result.stderr == "claude-agent: usage: --port \(other) contradicts provider test's redirect_uri \(uri), which names port \(port) (see 'claude-agent login --help')\n")
        let client = AgentClient(socketPath: daemon.socket)
        for offered in ["http://127.0.0.1:\(other)/oauth/callback", "http://127.0.0.1:\(port)/elsewhere", "http://localhost:\(port)/oauth/callback"] {
            do {
                _ = try client.startLogin(account: "x", provider: nil, redirectURI: offered, scopes: nil)
                Issue.record("\(offered) must be refused")
            } catch {
                #expect(error.code == .badRequest)
                #expect(error.message == "redirect_uri \(offered) does not fit provider test's configured \(uri): listen on its host, port and path")
            }
        }
        let info = try client.provider(named: nil)
        #expect(info == ProviderInfo(name: "test", redirectURI: uri, paste: false))
    }

    @Test("approve listens on the configured port: the control browser's redirect lands there and the tool gets its token")
    func approveOnTheConfiguredPort() throws {
        let server = try OAuthServer(accessTokenSeconds: 30)
        let browser = try ControlBrowser()
        let sandbox = try Sandbox()
        let port = try freeLoopbackPort()
        let daemon = try agent(server, sandbox, redirectURI: "http://127.0.0.1:\(port)/oauth/callback", controlBrowser: browser.url)
        let waiting = try sandbox.background(["token", "--wait", "--timeout", "120", "--scope", "user:inference", "-a", daemon.socket])
        let client = AgentClient(socketPath: daemon.socket)
        var id: String?
        _ = try eventually { id = try client.listRequests().first?.id; return id != nil }
        let requestID = try #require(id)
        let approve = try sandbox.cli("approve", requestID, "--account", "2", "--timeout", "60", "-a", daemon.socket)
        #expect(approve.status == 0, "\(approve.stderr)")
        #expect(try waiting.wait() == 0, "\(waiting.stderr)")
        #expect(try server.whoami(waiting.stdout.trimmingCharacters(in: .newlines)) == "bob")
        // The authorization carried the configured port, and the redirect landed on it.
        let (status, body) = try HTTP.send(URLRequest(url: try #require(URL(string: browser.url + "/log"))))
        #expect(status == 200)
        let entries = try #require(try JSONSerialization.jsonObject(with: body) as? [[String: Any]])
        #expect(entries.count == 1)
        let authURL = try #require(entries.first?["auth_url"] as? String)
        #expect(authURL.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A\(port)%2Foauth%2Fcallback"), "\(authURL)")
        let callback = try #require(entries.first?["callback_url"] as? String)
        #expect(callback.hasPrefix("http://127.0.0.1:\(port)/oauth/callback?"), "\(callback)")
        #expect(entries.first?["outcome"] as? String == "callback-ok")
    }
}
