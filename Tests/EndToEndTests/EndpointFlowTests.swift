import ClaudeAgentClient
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The local API endpoint (`claude-agent endpoint`) between the real `anthropic` SDK and a
/// strict Messages mock, with a real agent and OAuth server behind it.
@Suite("the local API endpoint end to end", .serialized)
struct EndpointFlowTests {
    /// A CA and a server certificate for 127.0.0.1, made with openssl for this test only.
    struct TestCA {
        let caFile: String
        let certificate: String
        let key: String

        init(in directory: String) throws {
            caFile = directory + "/ca.pem"
            certificate = directory + "/server.pem"
            key = directory + "/server.key"
            let sandbox = try Sandbox()
            let steps: [[String]] = [
                ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory + "/ca.key", "-out", caFile, "-days", "1",
                 "-subj", "/CN=claude-agent test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign"],
                ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", directory + "/server.csr", "-subj", "/CN=127.0.0.1"],
                ["x509", "-req", "-in", directory + "/server.csr", "-CA", caFile, "-CAkey", directory + "/ca.key",
                 "-CAcreateserial", "-out", certificate, "-days", "1", "-extfile", directory + "/server.ext"],
            ]
            try "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                .write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
            for step in steps {
                let result = try sandbox.run("/usr/bin/openssl", step)
                guard result.status == 0 else { throw TestFailure("openssl \(step[0]) failed: \(result.stderr)") }
            }
        }
    }

    /// libcurl (under URLSession) trusts only its compiled-in CA bundle; the test CA is
    /// trusted by mounting it there in a private mount namespace of the endpoint alone.
    static let systemBundle = "/etc/ssl/certs/ca-certificates.crt"
    static let canTrustTestCA = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") && FileManager.default.fileExists(atPath: systemBundle)

    final class World {
        let server: OAuthServer
        let sandbox: Sandbox
        let daemon: Daemon
        let upstream: PeerProcess
        let endpoint: BackgroundCommand
        let port: Int
        let tokens: [String: Any]

        /// - Parameters:
        ///   - https: serve the upstream over TLS with a CA made here.
        ///   - endpointArguments: more options for `claude-agent endpoint`.
        init(https: Bool = false, accessTokenSeconds: Int = 300, endpointArguments: [String] = [],
             upstreamArguments: [String] = []) throws {
            server = try OAuthServer(accessTokenSeconds: accessTokenSeconds)
            sandbox = try Sandbox()
            let config = try server.writeConfig(in: sandbox)
            daemon = try sandbox.startDaemon(["--config", config, "--skew", "1"])
            tokens = try server.obtainTokens(user: "bob")
            let bundle = #"{"access_token": "\#(tokens["access_token"] as? String ?? "")", "refresh_token": "\#(tokens["refresh_token"] as? String ?? "")", "expires_in": \#(accessTokenSeconds), "scope": "user:inference user:profile"}"#
            let added = try sandbox.cli("add", "--account", "bob", "-a", daemon.socket, stdin: bundle)
            guard added.status == 0 else { throw TestFailure("add failed: \(added.stderr)") }
            var peerArguments = ["--oauth-server", server.url] + upstreamArguments
            var launcher: [String] = []
            if https {
                let ca = try TestCA(in: sandbox.root)
                peerArguments += ["--cert", ca.certificate, "--key", ca.key]
                launcher = ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                            "mount --bind \"$0\" \(EndpointFlowTests.systemBundle) && exec \"$@\"", ca.caFile]
            }
            upstream = try PeerProcess("messages_upstream.py", peerArguments)
            port = try freeLoopbackPort()
            let command = [Binaries.cli, "endpoint", "--listen", "127.0.0.1:\(port)", "--upstream", String(upstream.url.split(separator: " ")[0]),
                           "-a", daemon.socket] + endpointArguments
            endpoint = try BackgroundCommand(launcher.isEmpty ? command[0] : launcher[0],
                                             Array((launcher.isEmpty ? command : launcher + command).dropFirst()),
                                             environment: sandbox.environment)
            try endpoint.waitUntilStarted(saying: "listening on http://127.0.0.1:\(port)", "the endpoint")
        }

        var url: String { "http://127.0.0.1:\(port)" }
        /// Where the upstream serves the API (http or https).
        var upstreamURL: String { String(upstream.url.split(separator: " ")[0]) }
        /// Where the test reaches the upstream's controls (always plain http).
        var controlURL: String { String(upstream.url.split(separator: " ").last ?? "") }

        /// The SDK script's calls; one JSON line each.
        func sdk(_ arguments: [String] = []) throws -> (status: Int32, lines: [[String: Any]], stderr: String) {
            let result = try Sandbox.runPeer("anthropic_client.py", ["--base-url", url] + arguments)
            let lines = result.stdout.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            return (result.status, lines, result.stderr)
        }

        func upstreamStats() throws -> [String: Any] {
            let (_, body) = try HTTP.send(URLRequest(url: URL(string: controlURL + "/test/stats")!))
            return try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
        }

        func control(_ path: String) throws {
            var request = URLRequest(url: URL(string: controlURL + path)!)
            request.httpMethod = "POST"
            _ = try HTTP.send(request)
        }

        func rejectNext(_ count: Int) throws {
            var request = URLRequest(url: URL(string: controlURL + "/test/reject-next?count=\(count)")!)
            request.httpMethod = "POST"
            _ = try HTTP.send(request)
        }

        /// One raw request to the endpoint; `Connection: close` ends any streamed answer.
        func request(_ method: String, _ path: String, body: String = "", headers: [String] = [],
                     host: String? = nil) throws -> RawHTTP {
            var lines = ["\(method) \(path) HTTP/1.1", "Host: \(host ?? "127.0.0.1:\(port)")", "Connection: close",
                         "anthropic-version: 2023-06-01", "x-api-key: placeholder"] + headers
            lines += ["Content-Type: application/json", "Content-Length: \(body.utf8.count)"]
            return try #require(try RawHTTP.send(port: port, lines.joined(separator: "\r\n") + "\r\n\r\n" + body))
        }

        /// Adds the OAuth server's `user` as an account of that name, with an access token
        /// and no refresh token.
        func addAccountWithoutRefreshToken(_ user: String) throws {
            let tokens = try server.obtainTokens(user: user)
            let bundle = #"{"access_token": "\#(tokens["access_token"] as? String ?? "")", "expires_in": 300, "scope": "user:inference"}"#
            #expect(try sandbox.cli("add", "--account", user, "-a", daemon.socket, stdin: bundle).status == 0)
        }

        static let message = #"{"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "Hi"}]}"#

        /// The audit lines logged so far.
        var auditLines: [String] { endpoint.stderr.split(separator: "\n").map(String.init).filter { $0.contains(": request ") } }
    }

    static func errorType(_ response: RawHTTP) -> String? {
        guard let json = response.json, json["type"] as? String == "error" else { return nil }
        return (json["error"] as? [String: Any])?["type"] as? String
    }

    static func errorMessage(_ response: RawHTTP) -> String {
        ((response.json?["error"] as? [String: Any])?["message"] as? String) ?? ""
    }

    // MARK: The SDK over HTTPS

    @Test("the anthropic SDK's messages.create and messages.stream succeed through the endpoint to an HTTPS upstream",
          .enabled(if: canTrustTestCA, "needs root, unshare, openssl and the CA bundle to trust a test CA"))
    func sdkOverHTTPS() throws {
        let world = try World(https: true)
        #expect(world.upstreamURL.hasPrefix("https://"))
        let result = try world.sdk()
        #expect(result.status == 0, "\(result.lines) \(result.stderr) \(world.endpoint.stderr)")
        #expect(result.lines.map { $0["text"] as? String } == ["Hello from the mock.", "Hello from the mock. "])
        let stats = try world.upstreamStats()
        #expect(stats["messages"] as? Int == 2)
        let seen = stats["last_headers"] as? [String: String] ?? [:]
        #expect(seen["x-api-key"] == nil)
        #expect(seen["authorization"] == "<bearer>")
        #expect(seen["x-stainless-helper-method"] == "stream")
        // One audit line per request, with the caller, the account and the sizes; no token anywhere.
        let audit = world.auditLines
        #expect(audit.count == 2, "\(world.endpoint.stderr)")
        for line in audit {
            #expect(line.contains("exe=") && line.contains("python"), "\(line)")
            #expect(line.contains("account=bob POST /v1/messages status=200 in="), "\(line)")
        }
        let token = try #require(world.tokens["access_token"] as? String)
        #expect(!world.endpoint.stderr.contains(token))
    }

    @Test("an HTTPS upstream whose CA is not trusted gives the client a 502 that says so",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl (scripts/test installs it)"))
    func untrustedUpstream() throws {
        let world = try World(https: false)
        let ca = try TestCA(in: world.sandbox.root)
        let tls = try PeerProcess("messages_upstream.py", ["--oauth-server", world.server.url, "--cert", ca.certificate, "--key", ca.key])
        let port = try freeLoopbackPort()
        let endpoint = try world.sandbox.background(["endpoint", "--listen", "\(port)", "--upstream",
                                                     String(tls.url.split(separator: " ")[0]), "-a", world.daemon.socket])
        #expect(try eventually(timeoutMilliseconds: 10_000) { endpoint.stderr.contains("listening on") })
        let lines = ["POST /v1/messages HTTP/1.1", "Host: 127.0.0.1:\(port)", "Connection: close", "anthropic-version: 2023-06-01",
                     "Content-Type: application/json", "Content-Length: \(World.message.utf8.count)"]
        let answer = try #require(try RawHTTP.send(port: port, lines.joined(separator: "\r\n") + "\r\n\r\n" + World.message))
        #expect(answer.status == 502)
        #expect(Self.errorType(answer) == "api_error")
        #expect(Self.errorMessage(answer).contains("certificate"), "\(answer.body)")
    }

    @Test("a stream's events reach the client while the upstream is still sending: nothing is held back")
    func streamPassesThrough() throws {
        let world = try World()
        try world.control("/test/hold")
        let body = #"{"model": "m", "max_tokens": 8, "stream": true, "messages": [{"role": "user", "content": "Hi"}]}"#
        let client = try RawConnectionTCP(port: world.port)
        client.send(["POST /v1/messages HTTP/1.1", "Host: 127.0.0.1:\(world.port)", "x-api-key: placeholder",
                     "anthropic-version: 2023-06-01", "Content-Type: application/json",
                     "Content-Length: \(body.utf8.count)"].joined(separator: "\r\n") + "\r\n\r\n" + body)
        // The upstream holds its stream after the first delta: that delta must arrive anyway.
        var received = ""
        for _ in 0..<100 where !received.contains("content_block_delta") {
            let bytes = client.readSome()
            if bytes.isEmpty { break }
            received += String(decoding: bytes, as: UTF8.self)
        }
        #expect(received.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(received)")
        #expect(received.contains("Transfer-Encoding: chunked"))
        #expect(received.contains("event: message_start"))
        #expect(received.contains("content_block_delta"))
        #expect(!received.contains("message_stop"))
        try world.control("/test/release")
        for _ in 0..<100 where !received.contains("message_stop") {
            let bytes = client.readSome()
            if bytes.isEmpty { break }
            received += String(decoding: bytes, as: UTF8.self)
        }
        #expect(received.contains("event: message_stop"))
        client.close()
    }

    // MARK: Refresh

    @Test("a token that expires mid-session is refreshed by the agent; the client never notices")
    func expiryMidSession() throws {
        let world = try World(accessTokenSeconds: 3)
        // As Claude Code is configured: the placeholder in ANTHROPIC_AUTH_TOKEN, sent as a Bearer token.
        let result = try world.sdk(["--repeat", "3", "--pause", "2.5", "--key", "claude-agent", "--as-auth-token"])
        #expect(result.status == 0, "\(result.lines) \(result.stderr) \(world.endpoint.stderr)")
        #expect(result.lines.count == 6)
        #expect(try world.server.tokenRequests("refresh_token") >= 1)
        let stats = try world.upstreamStats()
        #expect(stats["unauthorized"] as? Int == 0)
        #expect((stats["distinct_tokens"] as? Int ?? 0) >= 2)
    }

    @Test("an upstream 401 on a valid token: exactly one forced refresh and one replay; a second 401 reaches the client")
    func unauthorizedReplay() throws {
        let world = try World()
        try world.server.resetStats()
        try world.rejectNext(1)
        let first = try world.sdk(["--calls", "create"])
        #expect(first.status == 0, "\(first.lines) \(world.endpoint.stderr)")
        var stats = try world.upstreamStats()
        #expect(stats["messages"] as? Int == 2)
        #expect(stats["unauthorized"] as? Int == 1)
        #expect(try world.server.tokenRequests("refresh_token") == 1)
        #expect((stats["distinct_tokens"] as? Int) == 1)

        try world.rejectNext(2)
        let second = try world.sdk(["--calls", "create"])
        #expect(second.status == 1)
        #expect(second.lines.first?["status"] as? Int == 401)
        stats = try world.upstreamStats()
        #expect(stats["messages"] as? Int == 4)
        #expect(stats["unauthorized"] as? Int == 3)
        #expect(world.auditLines.last?.contains("status=401") == true)
    }

    @Test("an upstream 401 for an account without a refresh token: the client is told to log in again")
    func unauthorizedWithoutRefreshToken() throws {
        let world = try World()
        try world.addAccountWithoutRefreshToken("alice")
        try world.rejectNext(1)
        let answer = try world.request("POST", "/v1/messages", body: World.message, headers: ["Authorization: Bearer claude-agent:alice"])
        #expect(answer.status == 401)
        #expect(Self.errorType(answer) == "authentication_error")
        #expect(Self.errorMessage(answer).contains("claude-agent login --account alice"), "\(answer.body)")
        #expect(try world.upstreamStats()["messages"] as? Int == 1)
    }

    // MARK: Errors a client can act on

    @Test("agent down, locked, unknown account: the API's error shape, 503 or 401, and what to run")
    func actionableErrors() throws {
        let world = try World()
        let unknown = try world.request("POST", "/v1/messages", body: World.message, headers: ["Authorization: Bearer claude-agent:nobody"])
        #expect(unknown.status == 401)
        #expect(Self.errorType(unknown) == "authentication_error")
        #expect(Self.errorMessage(unknown).contains("claude-agent login --account nobody"), "\(unknown.body)")

        #expect(try world.sandbox.cli("lock", "-a", world.daemon.socket, stdin: "hunter2\n").status == 0)
        let locked = try world.request("POST", "/v1/messages", body: World.message)
        #expect(locked.status == 503)
        #expect(Self.errorType(locked) == "api_error")
        #expect(Self.errorMessage(locked).contains("claude-agent unlock"), "\(locked.body)")

        _ = world.daemon.stop()
        let down = try world.request("POST", "/v1/messages", body: World.message)
        #expect(down.status == 503)
        #expect(Self.errorMessage(down).contains("claude-agent start"), "\(down.body)")
        #expect(try world.upstreamStats()["messages"] as? Int == 0)
    }

    @Test("a key claude-agent:NAME picks that account; others use --account or the default")
    func accountByKey() throws {
        let world = try World()
        try world.addAccountWithoutRefreshToken("alice")
        #expect(try world.sdk(["--calls", "create", "--key", "claude-agent:alice"]).status == 0)
        #expect(try world.sdk(["--calls", "create"]).status == 0)
        let audit = world.auditLines
        #expect(audit.count == 2)
        #expect(audit.first?.contains("account=alice") == true)
        #expect(audit.last?.contains("account=bob") == true)
    }

    // MARK: Hostile clients and upstreams

    @Test("a foreign Host (DNS rebinding), any Origin and browsers' Fetch Metadata are refused with 403; nothing reaches the upstream")
    func hostAndOrigin() throws {
        let world = try World()
        let rebinding = try world.request("POST", "/v1/messages", body: World.message, host: "evil.example:\(world.port)")
        #expect(rebinding.status == 403)
        #expect(Self.errorType(rebinding) == "permission_error")
        let page = try world.request("POST", "/v1/messages", body: World.message, headers: ["Origin: https://evil.example"])
        #expect(page.status == 403)
        #expect(Self.errorType(page) == "permission_error")
        // Even the endpoint's own origin, and a navigation with no Origin but Fetch Metadata:
        // the endpoint serves no page, so only a browser sends these.
        for field in ["Origin: http://127.0.0.1:\(world.port)", "Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: navigate"] {
            let browser = try world.request("GET", "/v1/models", headers: [field])
            #expect(browser.status == 403, "\(field)")
            #expect(Self.errorMessage(browser).contains("web browsers are refused"), "\(browser.body)")
        }
        #expect(try world.upstreamStats()["messages"] as? Int == 0)
        #expect(world.auditLines.filter { $0.contains("status=403") }.count == 5, "\(world.endpoint.stderr)")
        #expect(try world.request("POST", "/v1/messages", body: World.message).status == 200)
    }

    @Test("a client of another uid is refused before a byte is read", .enabled(if: getuid() == 0, "switching to uid 65534 needs root"))
    func otherUID() throws {
        let world = try World()
        let result = try world.sandbox.getAsOtherUID(port: world.port, "/v1/models")
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "closed", "\(result.stdout) \(result.stderr)")
        #expect(try world.request("POST", "/v1/messages", body: World.message).status == 200)
    }

    @Test("a 50 MB request body is refused with 413 before it is read; the endpoint serves on")
    func hugeBody() throws {
        let world = try World()
        let head = ["POST /v1/messages HTTP/1.1", "Host: 127.0.0.1:\(world.port)", "Content-Type: application/json",
                    "Content-Length: \(50 * 1024 * 1024)"].joined(separator: "\r\n") + "\r\n\r\n{\"model\":"
        let refused = try #require(try RawHTTP.send(port: world.port, head))
        #expect(refused.status == 413)
        #expect(Self.errorType(refused) == "request_too_large")
        #expect(try world.upstreamStats()["messages"] as? Int == 0)
        #expect(try world.request("POST", "/v1/messages", body: World.message).status == 200)
    }

    @Test("a client that stops reading a stream is dropped and its upstream cancelled; a client that hangs up cancels too")
    func stalledAndVanishingClients() throws {
        let world = try World()
        // Asks for 4 GiB at up to 64 MB/s (a minute: a cancel must arrive long before the
        // upstream could finish) and reads nothing: the endpoint holds a bounded backlog,
        // then lets go.
        let flood = "POST /v1/flood?bytes=\(1 << 32)&gap_ms=1 HTTP/1.1\r\nHost: 127.0.0.1:\(world.port)\r\nContent-Length: 0\r\n\r\n"
        let stalled = try RawConnectionTCP(port: world.port)
        stalled.send(flood)
        #expect(try eventually(timeoutMilliseconds: 30_000) { try world.upstreamStats()["flood_cancelled"] as? Int == 1 }, "\(world.endpoint.stderr)")
        #expect(world.endpoint.stderr.contains("unread"))
        // Hangs up after the head of a stream: the upstream sees its connection closed.
        let leaving = try RawConnectionTCP(port: world.port)
        leaving.send(flood)
        #expect(leaving.readSome().count > 0)
        leaving.close()
        #expect(try eventually(timeoutMilliseconds: 30_000) { try world.upstreamStats()["flood_cancelled"] as? Int == 2 }, "\(world.endpoint.stderr)")
        #expect(world.auditLines.filter { $0.contains("/v1/flood status=499") }.count == 2, "\(world.endpoint.stderr)")
        #expect(try world.request("POST", "/v1/messages", body: World.message).status == 200)
        stalled.close()
    }

    @Test("an upstream that hangs is given up after --upstream-timeout with a 504; the endpoint serves on")
    func hangingUpstream() throws {
        let world = try World(endpointArguments: ["--upstream-timeout", "2"])
        let answer = try world.request("POST", "/v1/hang", body: "{}")
        #expect(answer.status == 504)
        #expect(Self.errorType(answer) == "api_error")
        #expect(Self.errorMessage(answer).contains("did not answer in time"), "\(answer.body)")
        #expect(try eventually(timeoutMilliseconds: 10_000) { try world.upstreamStats()["hang_closed"] as? Int == 1 })
        #expect(try world.request("POST", "/v1/messages", body: World.message).status == 200)
    }

    // MARK: The command

    @Test("endpoint --help and usage errors (exit 2) from the CLI")
    func command() throws {
        let sandbox = try Sandbox()
        let help = try sandbox.cli("endpoint", "--help")
        #expect(help.status == 0)
        #expect(help.stdout.hasPrefix("usage: claude-agent endpoint [--listen ADDRESS:PORT]..."))
        #expect(help.stdout.contains("export ANTHROPIC_BASE_URL=http://127.0.0.1:7778"))
        #expect(try sandbox.cli("help", "endpoint").stdout == help.stdout)
        #expect(try sandbox.cli("--help", "endpoint").stdout == help.stdout)
        #expect(try sandbox.cli("--help").stdout.contains("  endpoint   serve the Anthropic API on loopback"))
        let remote = try sandbox.cli("endpoint", "--listen", "192.0.2.1:7778")
        #expect(remote.status == 2)
        #expect(remote.stderr == "claude-agent: usage: --listen 192.0.2.1:7778: only loopback addresses are served (127.0.0.1 or [::1])"
                + " (see 'claude-agent endpoint --help')\n")
        let clear = try sandbox.cli("endpoint", "--upstream", "http://api.anthropic.com")
        #expect(clear.status == 2)
        #expect(clear.stderr.contains("plain http would send the token in clear"))
        let timeout = try sandbox.run(Binaries.directory + "/claude-agent-endpoint", ["--upstream-timeout", "0"])
        #expect(timeout.status == 2)
        #expect(timeout.stderr.contains("1 to 3600"))
    }
}

/// A raw TCP client for the tests that misbehave on purpose (stop reading, hang up).
final class RawConnectionTCP {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f000001).bigEndian
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect to port \(port) failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func readSome() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    func close() { Glibc.close(fd) }
}
