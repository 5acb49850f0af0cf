import ClaudeAgentClient
import Foundation
import Testing

/// One exchange over a raw TCP connection, so tests control every byte (Host, Origin,
/// oversized heads) the way URLSession would not let them.
struct RawHTTP {
    let status: Int
    let head: String
    let body: String

    static func send(port: Int, _ request: String, bytes: [UInt8]? = nil) throws -> RawHTTP? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f000001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect to port \(port) failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let payload = bytes ?? Array(request.utf8)
        _ = payload.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[0..<n]
            let text = String(decoding: received, as: UTF8.self)
            if let split = text.range(of: "\r\n\r\n"),
               let length = text[..<split.lowerBound].split(separator: "\r\n")
                .first(where: { $0.lowercased().hasPrefix("content-length:") })
                .flatMap({ Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }),
               received.count >= text.utf8.distance(from: text.utf8.startIndex, to: split.upperBound.samePosition(in: text.utf8)!) + length {
                break
            }
        }
        guard !received.isEmpty else { return nil }
        let text = String(decoding: received, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let status = Int(parts[0].split(separator: " ").dropFirst().first ?? "") ?? 0
        return RawHTTP(status: status, head: parts[0], body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] }
}

extension Sandbox {
    /// Sends `GET target` to a loopback server on `port` as uid 65534 (so the caller must be
    /// root) and prints what came back: "closed" when the server closed without an answer
    /// (an empty read, or a reset when our bytes were unread), "answered" otherwise.
    func getAsOtherUID(port: Int, _ target: String) throws -> CommandResult {
        let script = """
            import socket
            s = socket.create_connection(('127.0.0.1', \(port)))
            try:
                s.sendall(b'GET \(target) HTTP/1.1\\r\\nHost: 127.0.0.1:\(port)\\r\\n\\r\\n')
                print('closed' if s.recv(100) == b'' else 'answered')
            except ConnectionResetError:
                print('closed')
            """
        return try run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script])
    }
}

/// The HTTP bridge in front of a real agent, OAuth server and control browser.
@Suite("the HTTP bridge end to end", .serialized)
struct BridgeFlowTests {
    final class World {
        let server: OAuthServer
        let browser: ControlBrowser
        let sandbox: Sandbox
        let daemon: Daemon
        let bridge: BackgroundCommand
        let port: Int
        let secret: String

        init() throws {
            server = try OAuthServer(accessTokenSeconds: 30)
            browser = try ControlBrowser()
            sandbox = try Sandbox()
            port = try freeLoopbackPort()
            let config = try server.writeConfig(in: sandbox, controlBrowser: browser.url)
            daemon = try sandbox.startDaemon(["--config", config, "--skew", "1",
                                              "--callback-url", "http://127.0.0.1:\(port)/oauth/callback"])
            bridge = try sandbox.background(["bridge", "--listen", "127.0.0.1:\(port)", "-a", daemon.socket])
            try bridge.waitUntilStarted(saying: "Bridge listening on http://127.0.0.1:\(port)", "the bridge")
            let tokenPath = URL(fileURLWithPath: daemon.socket).deletingLastPathComponent().path + "/bridge.token"
            secret = try String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        var url: String { "http://127.0.0.1:\(port)" }

        func request(_ method: String, _ path: String, body: String? = nil, secret: Bool = false,
                     headers: [String] = []) throws -> RawHTTP {
            var lines = ["\(method) \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Connection: close"] + headers
            if secret { lines.append("Authorization: Bearer \(self.secret)") }
            if let body { lines += ["Content-Type: application/json", "Content-Length: \(body.utf8.count)"] }
            let text = lines.joined(separator: "\r\n") + "\r\n\r\n" + (body ?? "")
            return try #require(try RawHTTP.send(port: port, text))
        }

        func create() throws -> String {
            let created = try request("POST", "/v1/token-requests", body: #"{"client_name": "t", "hostname": "h", "scopes": ["user:inference"]}"#)
            #expect(created.status == 201)
            return try #require(created.json?["request_id"] as? String)
        }
    }

}

/// A TCP port nothing listens on now (the agent must know the bridge's port before it starts).
func freeLoopbackPort() throws -> Int {
    do {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f000001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                _ = bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension BridgeFlowTests {
    @Test("a client written for the original router works unchanged: create, poll, approved with a working token")
    func originalClient() throws {
        let world = try World()
        let client = try Sandbox.runPeerInBackground("router_client.py", ["--router", world.url, "--timeout", "60"])
        var id: String?
        _ = try eventually {
            id = (try world.request("GET", "/v1/token-requests", secret: true).json?["requests"] as? [[String: Any]])?.first?["request_id"] as? String
            return id != nil
        }
        let requestID = try #require(id)
        // Attributed to the HTTP client (a Python process), not to the bridge.
        let listed = (try world.request("GET", "/v1/token-requests", secret: true).json?["requests"] as? [[String: Any]])?.first
        let caller = listed?["caller"] as? [String: Any]
        #expect(caller?["pid"] as? Int == Int(client.process.processIdentifier), "\(String(describing: caller))")
        #expect((caller?["command_line"] as? String)?.contains("router_client.py") == true)
        let selected = try world.request("POST", "/v1/token-requests/\(requestID)/select-account", body: #"{"account_id": 1}"#, secret: true)
        #expect(selected.status == 200, "\(selected.body)")
        #expect(selected.json?["status"] as? String == "in_progress")
        #expect(selected.json?["account_id"] as? Int == 1)
        #expect(selected.json?["request_id"] as? String == requestID)
        #expect(selected.json?.keys.sorted() == ["account_id", "request_id", "status"])
        #expect(try client.wait() == 0, "\(client.stderr)")
        let token = try #require(try JSONSerialization.jsonObject(with: Data(client.stdout.utf8)) as? [String: Any])
        #expect(token.keys.sorted() == ["access_token", "expires_at", "refresh_token", "scope", "token_type"])
        #expect(token["refresh_token"] is NSNull)
        #expect(token["scope"] as? String == "user:inference")
        #expect((token["expires_at"] as? String)?.hasSuffix("Z") == true)
        #expect(try world.server.whoami(try #require(token["access_token"] as? String)) == "alice")
    }

    @Test("every route answers the original router's status codes")
    func conformance() throws {
        let world = try World()
        let id = try world.create()
        let status = try world.request("GET", "/v1/token-requests/\(id)/status")
        #expect(status.status == 200)
        #expect(status.json?["status"] as? String == "pending")
        #expect(status.json?["token"] is NSNull && status.json?["error"] is NSNull)
        #expect(status.head.lowercased().contains("content-type: application/json"))
        #expect(try world.request("GET", "/v1/token-requests/00000000-0000-4000-8000-000000000000/status").json?["error"] as? String == "request_not_found")
        let invalid = try world.request("GET", "/v1/token-requests/not-a-uuid/status")
        #expect(invalid.status == 400 && invalid.json?["error"] as? String == "invalid_request_id")
        let cancelled = try world.request("POST", "/v1/token-requests/\(id)/cancel", secret: true)
        #expect(cancelled.status == 200 && cancelled.json?["status"] as? String == "cancelled")
        let late = try world.request("POST", "/v1/token-requests/\(id)/select-account", body: #"{"account_id": 1}"#, secret: true)
        #expect(late.status == 409 && late.json?["error"] as? String == "invalid_status_for_select")
        let missing = try world.request("POST", "/v1/token-requests/00000000-0000-4000-8000-000000000000/select-account", body: #"{"account_id": 1}"#, secret: true)
        #expect(missing.status == 404 && missing.json?["error"] as? String == "request_not_found")
        #expect(try world.request("GET", "/oauth/callback?state=x").json?["error"] as? String == "missing_code")
        #expect(try world.request("GET", "/oauth/callback?code=x").json?["error"] as? String == "missing_state")
        #expect(try world.request("GET", "/oauth/callback?code=x&state=unknown").status == 400)
        #expect(try world.request("GET", "/healthz").status == 200)
        #expect(try world.request("GET", "/v1/accounts", secret: true).json?["accounts"] is [Any])
        #expect(try world.request("GET", "/nope").status == 404)
        #expect(try world.request("DELETE", "/v1/token-requests").status == 405)
    }

    @Test("the control browser down answers 502 and the request is in error")
    func badGateway() throws {
        let world = try World()
        world.browser.peer.stop()
        let id = try world.create()
        let selected = try world.request("POST", "/v1/token-requests/\(id)/select-account", body: #"{"account_id": 2}"#, secret: true)
        #expect(selected.status == 502, "\(selected.body)")
        #expect(try world.request("GET", "/v1/token-requests/\(id)/status").json?["status"] as? String == "error")
    }

    @Test("hostile HTTP is refused with the right status and the bridge keeps serving")
    func hostile() throws {
        let world = try World()
        let port = world.port
        let wrongHost = try RawHTTP.send(port: port, "GET /healthz HTTP/1.1\r\nHost: evil.example:\(port)\r\n\r\n")
        #expect(wrongHost?.status == 403)
        #expect(try world.request("GET", "/healthz", headers: ["Origin: https://evil.example"]).status == 403)
        #expect(try world.request("GET", "/v1/token-requests").status == 401)
        #expect(try world.request("GET", "/v1/token-requests", headers: ["Authorization: Bearer wrong"]).status == 401)
        let bigHead = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nX-Filler: \(String(repeating: "a", count: 9000))\r\n\r\n"
        #expect(try RawHTTP.send(port: port, bigHead)?.status == 431)
        let bigBody = "POST /v1/token-requests HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\nContent-Length: 70000\r\n\r\n"
        #expect(try RawHTTP.send(port: port, bigBody)?.status == 413)
        let chunked = "POST /v1/token-requests HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        #expect(try RawHTTP.send(port: port, chunked)?.status == 501)
        #expect(try RawHTTP.send(port: port, "NONSENSE\r\n\r\n")?.status == 400)
        var open: [Int32] = []
        for _ in 0..<1000 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = UInt32(0x7f000001).bigEndian
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            open.append(fd)
        }
        for fd in open { close(fd) }
        // Past its cap of 512 the bridge answered 503 and closed; once it has seen our
        // closes it serves again.
        #expect(try eventually(timeoutMilliseconds: 10_000) { try world.request("GET", "/healthz").status == 200 })
    }

    @Test("a client of another uid is refused", .enabled(if: getuid() == 0, "switching to uid 65534 needs root"))
    func otherUID() throws {
        let world = try World()
        let result = try world.sandbox.getAsOtherUID(port: world.port, "/healthz")
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "closed", "\(result.stdout) \(result.stderr)")
        #expect(try world.request("GET", "/healthz").status == 200)
    }

    @Test("approving in the approval page in headless Chromium completes the flow; a screenshot is kept",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"), "needs chromium-driver"))
    func approvalPageInChromium() throws {
        let world = try World()
        let waiting = try world.sandbox.background(["token", "--wait", "--timeout", "90", "-a", world.daemon.socket])
        var id: String?
        _ = try eventually { id = try AgentClient(socketPath: world.daemon.socket).listRequests().first?.id; return id != nil }
        let requestID = try #require(id)
        let screenshot = Repository.root + "/test-artifacts/approval-page.png"
        let browser = try Sandbox.runPeer("approve_in_browser.py", ["--bridge", world.url, "--token=" + world.secret,
                                                                  "--request", requestID, "--account", "2", "--screenshot", screenshot])
        #expect(browser.status == 0, "\(browser.stderr)")
        #expect(try waiting.wait() == 0, "\(waiting.stderr)")
        #expect(try world.server.whoami(waiting.stdout.trimmingCharacters(in: .newlines)) == "bob")
        #expect(FileManager.default.fileExists(atPath: screenshot))
    }

    @Test("the approval page marks accounts that lack the request's scopes and shows the whole placeholder, in Chromium",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"), "needs chromium-driver"))
    func approvalPageMarksAccountsWithoutTheScopes() throws {
        let world = try World()
        #expect(try world.sandbox.cli("add", "--account", "narrow", "-a", world.daemon.socket,
                                      stdin: bundle("n", scopes: "user:profile")).status == 0)
        #expect(try world.sandbox.cli("add", "--account", "wide", "-a", world.daemon.socket,
                                      stdin: bundle("w", scopes: "user:inference user:profile")).status == 0)
        let client = AgentClient(socketPath: world.daemon.socket)
        let first = try client.createRequest(scopes: ["user:inference"], clientName: "first")
        let ready = world.sandbox.root + "/page-ready"
        let later = world.sandbox.root + "/later-request"
        let screenshot = Repository.root + "/test-artifacts/approval-accounts.png"
        let browser = try Sandbox.runPeerInBackground("inspect_approval_page.py", [
            "--bridge", world.url, "--token=" + world.secret, "--request", first.id,
            "--ready-file", ready, "--later-file", later, "--screenshot", screenshot])
        #expect(try eventually(timeoutMilliseconds: 60_000) { FileManager.default.fileExists(atPath: ready) || !browser.process.isRunning })
        // Made after the page loaded: its row comes from the page's script, not the server.
        let second = try client.createRequest(scopes: ["user:inference"], clientName: "second")
        try second.id.write(toFile: later, atomically: true, encoding: .utf8)
        #expect(try browser.wait(timeoutMilliseconds: 90_000) == 0, "\(browser.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(browser.stdout.utf8)) as? [String: Any])
        for source in ["server", "script"] {
            let row = try #require(report[source] as? [String: Any], "no \(source) row: \(browser.stdout)")
            let options = try #require(row["options"] as? [[String: Any]])
            let texts = options.map { $0["text"] as? String ?? "" }
            #expect(texts == ["narrow (#1): lacks user:inference, signs in again", "wide (#2)", "new account…"], "\(source)")
            #expect(options.map { $0["lacks"] as? Bool ?? false } == [true, false, false], "\(source)")
            #expect(options.map { $0["selected"] as? Bool ?? false } == [false, true, false], "\(source): offers the covering account first")
            // A number field's spin buttons take room clientWidth does not show, so only a
            // text field's measure is true (the account number is an identifier anyway).
            #expect(row["field_type"] as? String == "text", "\(source)")
            let needed = try #require(row["placeholder_width"] as? Double)
            let available = try #require(row["field_text_width"] as? Double)
            #expect(needed <= available, "\(source): the placeholder needs \(needed) px of \(available)")
        }
    }
}

extension Sandbox {
    static func runPeerInBackground(_ script: String, _ arguments: [String]) throws -> BackgroundCommand {
        try BackgroundCommand(Repository.python, [Repository.peers + "/" + script] + arguments,
                              environment: ProcessInfo.processInfo.environment)
    }
}
