import AgentPOSIX
import Glibc
import HTTPBridge
import Testing

@Suite("Host, Origin and the bridge secret")
struct SecurityTests {
    let security = BridgeSecurity(secret: testSecret)

    @Test("Host must name us with our port", arguments: [
        ("127.0.0.1:7777", true), ("localhost:7777", true), ("LocalHost:7777", true), ("[::1]:7777", true),
        ("127.0.0.1", false), ("127.0.0.1:7778", false), ("evil.example:7777", false), ("localhost.:7777", false),
        ("127.0.0.1:7777.evil.example", false), ("127.0.0.1:7777@evil", false), ("", false), ("[::1]", false),
    ])
    func host(_ host: String, _ allowed: Bool) {
        #expect(security.isAllowedHost(host, local: bridgeAddress) == allowed)
    }

    @Test("the address the client connected to is a valid Host too")
    func otherLoopbackAddress() {
        let local = SocketAddress(family: .inet, address: [127, 0, 0, 2], port: 8080)
        #expect(security.isAllowedHost("127.0.0.2:8080", local: local))
        #expect(!security.isAllowedHost("127.0.0.2:7777", local: local))
        #expect(security.isAllowedHost("localhost:8080", local: local))
    }

    @Test("Origin must be one of our own origins", arguments: [
        ("http://127.0.0.1:7777", true), ("http://localhost:7777", true), ("http://[::1]:7777", true),
        ("HTTP://LOCALHOST:7777", true), ("https://127.0.0.1:7777", false), ("http://127.0.0.1:7778", false),
        ("http://evil.example", false), ("null", false), ("http://127.0.0.1:7777/", false),
    ])
    func origin(_ origin: String, _ allowed: Bool) {
        #expect(security.isAllowedOrigin(origin, local: bridgeAddress) == allowed)
    }

    @Test("a foreign Host or Origin is a 403 with its code; no Origin is fine")
    func refusals() {
        #expect(security.checkHostAndOrigin(request("GET", "/healthz", host: "rebound.example:7777"), local: bridgeAddress)?.status == 403)
        let host = security.checkHostAndOrigin(request("GET", "/healthz", host: "rebound.example:7777"), local: bridgeAddress)
        #expect(host.map { String(decoding: $0.body, as: UTF8.self) }?.contains("\"forbidden_host\"") == true)
        let origin = security.checkHostAndOrigin(request("POST", "/v1/token-requests", headers: [("Origin", "http://evil.example")]), local: bridgeAddress)
        #expect(origin?.status == 403)
        #expect(origin.map { String(decoding: $0.body, as: UTF8.self) }?.contains("\"forbidden_origin\"") == true)
        #expect(security.checkHostAndOrigin(request("GET", "/healthz"), local: bridgeAddress) == nil)
        #expect(security.checkHostAndOrigin(request("POST", "/x", headers: [("Origin", "http://127.0.0.1:7777")]), local: bridgeAddress) == nil)
    }

    @Test("the secret as a Bearer token or as our cookie; nothing else")
    func authorization() {
        let secret = testSecret.value
        #expect(security.isAuthorized(request("GET", "/", headers: [("Authorization", "Bearer \(secret)")])))
        #expect(security.isAuthorized(request("GET", "/", headers: [("Authorization", "bearer   \(secret)")])))
        #expect(security.isAuthorized(request("GET", "/", headers: [("Cookie", "a=b; claude_agent_bridge=\(secret); c=d")])))
        #expect(security.isAuthorized(request("GET", "/", headers: [("Cookie", "claude_agent_bridge=\"\(secret)\"")])))
        #expect(!security.isAuthorized(request("GET", "/")))
        #expect(!security.isAuthorized(request("GET", "/", headers: [("Authorization", "Bearer \(secret)x")])))
        #expect(!security.isAuthorized(request("GET", "/", headers: [("Authorization", "Basic \(secret)")])))
        #expect(!security.isAuthorized(request("GET", "/", headers: [("Authorization", secret)])))
        #expect(!security.isAuthorized(request("GET", "/", headers: [("Cookie", "other=\(secret)")])))
        #expect(!security.isAuthorized(request("GET", "/", headers: [("Cookie", "claude_agent_bridge=\(secret.dropLast())")])))
    }

    @Test("the session cookie is HttpOnly, SameSite=Strict, for the whole site")
    func cookie() {
        #expect(security.sessionCookie == "claude_agent_bridge=\(testSecret.value); HttpOnly; SameSite=Strict; Path=/")
    }

    @Test("a generated secret is 32 random bytes in base64url")
    func generated() throws {
        let one = try BridgeSecret.generate()
        let two = try BridgeSecret.generate()
        #expect(one.value.utf8.count == 43)
        #expect(one.value.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(one.value != two.value)
        #expect(one.matches(one.value) && !one.matches(two.value))
    }

    @Test("bridge.token is written 0600 and removed only while it holds our secret")
    func tokenFile() throws {
        let directory = try temporaryDirectory()
        defer { _ = try? FileSystem.removeDirectory(directory) }
        let path = "\(directory)/bridge.token"
        try testSecret.write(to: path)
        let status = try FileSystem.status(path)
        #expect(status.permissions == 0o600)
        #expect(String(decoding: try FileSystem.readFile(path), as: UTF8.self) == testSecret.value + "\n")
        BridgeSecret(value: "someone-else").remove(from: path)
        #expect((try? FileSystem.status(path)) != nil)
        testSecret.remove(from: path)
        #expect((try? FileSystem.status(path)) == nil)
    }

    @Test("bridge.token is refused in a directory others may write")
    func looseDirectory() throws {
        let directory = try temporaryDirectory()
        defer { _ = try? FileSystem.removeDirectory(directory) }
        chmod(directory, 0o777)
        #expect(throws: BridgeError.self) { try testSecret.write(to: "\(directory)/bridge.token") }
        #expect(throws: BridgeError.self) { try testSecret.write(to: "\(directory)/missing/bridge.token") }
    }
}

/// A fresh 0700 directory under /tmp.
func temporaryDirectory() throws -> String {
    var template = Array("/tmp/bridge-test-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
    return String(cString: made)
}
