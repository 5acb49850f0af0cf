import Testing
@testable import AgentProtocol

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

@Suite("exit codes: one table for every program")
struct ExitCodeTests {
    @Test("each code exits with its row of the README's table; unknown codes are 7", arguments: [
        (ErrorCode.agentNotRunning, ExitCode.noAgent), (.io, .noAgent), (.usage, .usage), (.badRequest, .usage),
        (.badConfiguration, .usage), (.noToken, .noToken), (.notFound, .noToken), (.expired, .expired),
        (.loginRequired, .expired), (.refreshFailed, .expired), (.locked, .locked), (.denied, .denied),
        (.cancelled, .denied), (.timeout, .denied), (.requestFailed, .denied), (.notLocked, .failure),
        (.internal, .failure), (.listenFailed, .failure), (.startFailed, .failure), (ErrorCode(rawValue: "brand_new"), .failure),
    ])
    func mapping(code: ErrorCode, exit: ExitCode) {
        #expect(ExitCode(code) == exit)
    }

    @Test("no code is in two rows")
    func rowsAreDisjoint() {
        let codes = ExitCode.table.flatMap(\.1)
        #expect(Set(codes).count == codes.count)
    }
}
