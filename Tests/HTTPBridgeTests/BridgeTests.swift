import AgentPOSIX
import HTTPBridge
import Testing

@Suite("The bridge in process, without an agent")
struct BridgeTests {
    @Test("--listen takes loopback addresses only", arguments: [
        ("127.0.0.1:7777", "127.0.0.1:7777"), ("localhost:0", "127.0.0.1:0"), ("[::1]:8080", "[::1]:8080"),
        ("9000", "127.0.0.1:9000"), ("127.1.2.3:80", "127.1.2.3:80"),
    ])
    func listen(_ text: String, _ expected: String) throws {
        #expect(try BridgeConfiguration.listenAddress(text).description == expected)
    }

    @Test("--listen refuses other addresses with a usage error", arguments: [
        "0.0.0.0:7777", "[::]:7777", "192.168.1.2:7777", "example.com:80", "127.0.0.1", "127.0.0.1:99999", "",
    ])
    func listenRefused(_ text: String) {
        #expect(throws: BridgeError.self) { try BridgeConfiguration.listenAddress(text) }
        do {
            _ = try BridgeConfiguration.listenAddress(text)
        } catch {
            #expect(error.isUsage)
        }
    }

    @Test("a bridge writes bridge.token 0600 beside the socket, serves, and removes it when stopped")
    func lifecycle() throws {
        let directory = try temporaryDirectory()
        defer { _ = try? FileSystem.removeDirectory(directory) }
        var configuration = BridgeConfiguration(listen: [try BridgeConfiguration.listenAddress("127.0.0.1:0")],
                                                socketPath: "\(directory)/agent.sock")
        configuration.agentTimeoutMilliseconds = 2000
        let bridge = try Bridge(configuration: configuration)
        let thread = TestThread { try? bridge.run() }
        let tokenPath = "\(directory)/bridge.token"
        #expect(bridge.tokenPath == tokenPath)
        #expect(try FileSystem.status(tokenPath).permissions == 0o600)
        #expect(String(decoding: try FileSystem.readFile(tokenPath), as: UTF8.self) == bridge.secret.value + "\n")
        let port = bridge.server.boundAddresses[0].port
        #expect(bridge.urls == ["http://127.0.0.1:\(port)"])
        #expect(bridge.pageURL == "http://127.0.0.1:\(port)/?token=\(bridge.secret.value)")

        let fd = try TCPSocket.connect(bridge.server.boundAddresses[0])
        try fd.setTimeouts(milliseconds: 5000)
        let client = TestClient(fd: fd)
        try client.send("GET /healthz HTTP/1.1\r\nHost: localhost:\(port)\r\n\r\n")
        let health = try #require(try client.readResponse())
        #expect(health.status == 503)
        #expect(health.text.hasPrefix(#"{"ok":false,"error":"agent_unreachable","#))
        try client.send("GET /?token=\(bridge.secret.value) HTTP/1.1\r\nHost: localhost:\(port)\r\n\r\n")
        let login = try #require(try client.readResponse())
        #expect(login.status == 303)
        #expect(login.headers["Set-Cookie"]?.hasPrefix("claude_agent_bridge=\(bridge.secret.value);") == true)

        bridge.stop()
        thread.join()
        #expect((try? FileSystem.status(tokenPath)) == nil)
    }
}
