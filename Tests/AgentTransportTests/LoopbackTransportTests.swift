@testable import AgentTransport
import Synchronization
import Testing

@Suite("loopback HTTP in process")
struct LoopbackTransportTests {
    /// Records what reached the remote transport.
    final class Recorder: HTTPTransport {
        let urls = Mutex<[String]>([])
        func send(_ exchange: HTTPExchange) -> HTTPOutcome {
            urls.withLock { $0.append(exchange.url) }
            return .answered(status: 299, body: [])
        }
    }

    @Test("only plain http to a loopback address stays in process; TLS and other hosts go to the helper",
          arguments: ["https://127.0.0.1:8443/token", "http://example.com/token", "http://10.0.0.1/token",
                      "http://user@127.0.0.1/token", "ftp://127.0.0.1/x"])
    func routing(url: String) {
        let remote = Recorder()
        let outcome = LoopbackTransport(remote: remote).send(HTTPExchange(method: "POST", url: url, timeoutMilliseconds: 1_000))
        #expect(outcome == .answered(status: 299, body: []))
        #expect(remote.urls.withLock { $0 } == [url])
    }

    @Test("a loopback port with no listener is a failure to retry, not a helper's")
    func refused() {
        let remote = Recorder()
        // Port 1 on loopback: nothing listens there on a test machine.
        let outcome = LoopbackTransport(remote: remote).send(HTTPExchange(method: "GET", url: "http://127.0.0.1:1/open-auth", timeoutMilliseconds: 1_000))
        #expect(outcome == .notSent("connection refused"))
        #expect(remote.urls.withLock { $0 }.isEmpty)
    }

    @Test("a header value with a line break is refused before any connection: it would inject a field")
    func headerInjectionRefused() {
        let remote = Recorder()
        let exchange = HTTPExchange(method: "POST", url: "http://127.0.0.1:1/token",
                                    headers: [.init("Authorization", "Basic eA==\r\nX-Injected: 1")], timeoutMilliseconds: 1_000)
        let outcome = LoopbackTransport(remote: remote).send(exchange)
        #expect(outcome == .notSent("cannot write the request: the value of the header field Authorization holds a CR, LF or other control byte"))
        #expect(remote.urls.withLock { $0 }.isEmpty)
    }

    @Test("targets: host, port, path and query as written; the fragment is dropped")
    func targets() {
        let plain = LoopbackTarget(url: "http://127.0.0.1:7780/open-auth?account_id=1#x")
        #expect(plain?.authority == "127.0.0.1:7780")
        #expect(plain?.target == "/open-auth?account_id=1")
        #expect(plain?.address.port == 7780)
        #expect(LoopbackTarget(url: "http://localhost")?.target == "/")
        #expect(LoopbackTarget(url: "http://localhost?a=b")?.target == "/?a=b")
        #expect(LoopbackTarget(url: "http://[::1]:9/x")?.address.port == 9)
        #expect(LoopbackTarget(url: "http://127.0.0.1/a b") == nil)
        #expect(LoopbackTarget(url: "http:///x") == nil)
    }

    @Test("answers: by length, chunked, to the close; truncated and malformed ones fail")
    func answers() {
        func parse(_ text: String) -> HTTPOutcome {
            LoopbackHTTP.parse(Array(text.utf8), method: "POST")
        }
        func failed(_ text: String) -> String? {
            if case .failed(let reason) = parse(text) { return reason }
            return nil
        }
        #expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA") == .answered(status: 200, body: Array("ok".utf8)))
        #expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nab\r\n1\r\nc\r\n0\r\n\r\n")
                == .answered(status: 200, body: Array("abc".utf8)))
        #expect(parse("HTTP/1.0 503 Busy\r\n\r\nlater") == .answered(status: 503, body: Array("later".utf8)))
        #expect(parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")
                == .answered(status: 200, body: Array("x".utf8)))
        #expect(failed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")?.hasPrefix("a truncated HTTP answer") == true)
        #expect(failed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")?.hasPrefix("a malformed HTTP answer") == true)
        #expect(failed("SSH-2.0-OpenSSH\r\n\r\n")?.hasPrefix("a malformed HTTP answer") == true)
        #expect(parse("HTTP/1.1 204 No Content\r\n\r\n") == .answered(status: 204, body: []))
        // Hostile sizes from a local impostor are answers to refuse, never a trap.
        #expect(failed("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nabc")?.hasPrefix("a malformed HTTP answer") == true)
        #expect(failed("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc")?.hasPrefix("a malformed HTTP answer") == true)
        #expect(failed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nab")?
                    .hasPrefix("an answer over the limits") == true)
        // The rules this client used to disagree with the bridge on (RFC 9112 §6.3): the
        // last of two Content-Lengths won, and a length beside chunked was ignored.
        #expect(failed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc")?
                    .hasPrefix("a malformed HTTP answer") == true)
        #expect(failed("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")?
                    .hasPrefix("a malformed HTTP answer") == true)
        #expect(failed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")?
                    .hasPrefix("a malformed HTTP answer") == true)
        #expect(failed("HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n")?.hasPrefix("a malformed HTTP answer") == true)
    }
}
