import Testing
@testable import OAuth

@Suite("loopback redirect URIs: parsing and fitting a configured one (RFC 8252 §7.3)")
struct LoopbackRedirectParsingTests {
    @Test("parses host, port and path", arguments: [
        ("http://127.0.0.1:7791/oauth/callback", "127.0.0.1", UInt16?.some(7791), "/oauth/callback"),
        ("http://localhost/callback", "localhost", nil, "/callback"),
        ("http://[::1]:8080", "[::1]", 8080, "/"),
        ("http://127.0.0.1/", "127.0.0.1", nil, "/"),
    ])
    func parses(text: String, host: String, port: UInt16?, path: String) throws {
        let uri = try #require(LoopbackRedirect(text))
        #expect(uri == LoopbackRedirect(host: host, port: port, path: path))
    }

    @Test("refuses what is not a loopback http URI of this form", arguments: [
        "https://127.0.0.1:80/cb", "http://example.com/cb", "http://127.0.0.1.evil.com/", "http://127.0.0.1:0/cb",
        "http://127.0.0.1:99999/cb", "http://127.0.0.1:/cb", "http://127.0.0.1:80/cb?x=1", "http://127.0.0.1:80/cb#f",
        "http://user@127.0.0.1/cb", "https://console.anthropic.com/oauth/code/callback",
    ])
    func refuses(text: String) {
        #expect(LoopbackRedirect(text) == nil)
    }

    @Test("a configured URI admits the same host and path, on its port or, naming none, any")
    func admits() throws {
        let fixed = try #require(LoopbackRedirect("http://127.0.0.1:7791/oauth/callback"))
        let anyPort = try #require(LoopbackRedirect("http://127.0.0.1/oauth/callback"))
        let offered = try #require(LoopbackRedirect("http://127.0.0.1:40000/oauth/callback"))
        #expect(fixed.admits(try #require(LoopbackRedirect("http://127.0.0.1:7791/oauth/callback"))))
        #expect(!fixed.admits(offered))
        #expect(anyPort.admits(offered))
        #expect(!anyPort.admits(try #require(LoopbackRedirect("http://localhost:40000/oauth/callback"))))
        #expect(!anyPort.admits(try #require(LoopbackRedirect("http://127.0.0.1:40000/other"))))
        #expect(!anyPort.admits(anyPort))  // an offered URI names its port
        #expect(anyPort.uri(port: 40000) == "http://127.0.0.1:40000/oauth/callback")
        #expect(fixed.uri(port: 1) == "http://127.0.0.1:7791/oauth/callback")
        #expect(try #require(LoopbackRedirect("http://localhost/cb")).listenHost == "127.0.0.1")
    }
}

@Suite("loopback redirect URIs (RFC 8252)")
struct LoopbackRedirectValidityTests {
    @Test("loopback http URIs with a port are accepted; anything else is refused", arguments: [
        ("http://127.0.0.1:8080/oauth/callback", true), ("http://localhost:1/cb", true), ("http://[::1]:65535/x", true),
        ("http://127.0.0.1:8080", true), ("https://127.0.0.1:8080/cb", false), ("http://127.0.0.1/cb", false),
        ("http://127.0.0.1:99999/cb", false), ("http://example.com:80/cb", false), ("http://127.0.0.1.evil.com:80/", false),
    ])
    func redirects(uri: String, valid: Bool) {
        #expect(LoopbackRedirect.isValid(uri) == valid)
    }
}
