import AgentPOSIX
import Glibc
import HTTPBridge
import Testing

/// The server over real TCP on 127.0.0.1, with a handler that echoes the path, and
/// answers `/count` with its open connections (read on the server's own thread).
@Suite("The HTTP server over loopback TCP", .serialized)
struct HTTPServerTests {
    static func start(_ adjust: (inout HTTPServerConfiguration) -> Void = { _ in }) throws -> RunningServer {
        var configuration = HTTPServerConfiguration()
        adjust(&configuration)
        var server: HTTPServer?
        let running = try RunningServer(configuration: configuration) { request, connection in
            if request.path == "/count", let server {
                return .json(200, .int(Int64(server.connectionCount)))
            }
            if request.path == "/uid" {
                return .json(200, connection.peerUID.map { .int(Int64($0)) } ?? .null)
            }
            return HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"],
                                body: Array("\(request.method) \(request.target) \(request.body.count)".utf8))
        }
        server = running.server
        return running
    }

    static func get(_ path: String, port: UInt16, close: Bool = false) -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\(close ? "Connection: close\r\n" : "")\r\n"
    }

    @Test("keep-alive: several requests on one connection, then pipelined ones, answered in order")
    func keepAlive() throws {
        let server = try Self.start()
        defer { server.stop() }
        let client = try server.connect()
        for index in 0..<5 {
            try client.send(Self.get("/one/\(index)", port: server.port))
            let response = try #require(try client.readResponse())
            #expect(response.status == 200)
            #expect(response.text == "GET /one/\(index) 0")
            #expect(response.headers["Connection"] == nil)
        }
        try client.send((0..<3).map { Self.get("/piped/\($0)", port: server.port) }.joined()
                        + "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd")
        for index in 0..<3 {
            #expect(try client.readResponse()?.text == "GET /piped/\(index) 0")
        }
        #expect(try client.readResponse()?.text == "POST /body 4")
        try client.send(Self.get("/last", port: server.port, close: true))
        let last = try #require(try client.readResponse())
        #expect(last.headers["Connection"] == "close")
        #expect(client.readsEndOfFile())
    }

    @Test("the peer's uid is checked and handed to the handler")
    func peerUID() throws {
        let server = try Self.start()
        defer { server.stop() }
        let client = try server.connect()
        try client.send(Self.get("/uid", port: server.port))
        #expect(try client.readResponse()?.text == String(ProcessControl.effectiveUID))
    }

    @Test("HTTP/1.0 closes unless keep-alive; HEAD has no body; 100-continue is answered")
    func versionsAndHead() throws {
        let server = try Self.start()
        defer { server.stop() }
        let old = try server.connect()
        try old.send("GET /old HTTP/1.0\r\n\r\n")
        #expect(try old.readResponse()?.text == "GET /old 0")
        #expect(old.readsEndOfFile())

        let client = try server.connect()
        try client.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n" + Self.get("/after", port: server.port))
        // The HEAD answer says Content-Length 9 but carries no body; the next answer follows at once.
        var raw: [UInt8] = []
        while !String(decoding: raw, as: UTF8.self).contains("GET /after 0") {
            let chunk = try client.fd.read(upTo: 4096)
            if chunk.isEmpty { break }
            raw += chunk
        }
        let text = String(decoding: raw, as: UTF8.self)
        #expect(text.contains("Content-Length: 9\r\n"))
        #expect(!text.contains("HEAD /h"))
        #expect(text.hasSuffix("GET /after 0"))

        let expecting = try server.connect()
        try expecting.send("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        // The interim answer, exactly (the response parser skips interim answers).
        #expect(try expecting.read(count: 25) == Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        try expecting.send("abc")
        #expect(try expecting.readResponse()?.text == "POST /e 3")
    }

    @Test("oversized headers get 431 and a close; the server serves the next connection")
    func oversizedHeaders() throws {
        let server = try Self.start()
        defer { server.stop() }
        let client = try server.connect()
        try client.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 9000))\r\n\r\n")
        let response = try #require(try client.readResponse())
        #expect(response.status == 431)
        #expect(response.headers["Connection"] == "close")
        #expect(response.text.hasPrefix(#"{"error":"header_fields_too_large","#))
        #expect(client.readsEndOfFile())

        let next = try server.connect()
        try next.send(Self.get("/fine", port: server.port))
        #expect(try next.readResponse()?.text == "GET /fine 0")
    }

    @Test("a body over the limit gets 413 even while the client is still sending it")
    func bodyTooLarge() throws {
        let server = try Self.start()
        defer { server.stop() }
        let client = try server.connect()
        try client.send("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" + String(repeating: "z", count: 100_000))
        let response = try #require(try client.readResponse())
        #expect(response.status == 413)
        #expect(client.readsEndOfFile())
    }

    @Test("slowloris: a client sending a header byte every 100 ms is cut at the header time-out")
    func slowloris() throws {
        let server = try Self.start { $0.headerTimeoutMilliseconds = 1000 }
        defer { server.stop() }
        let client = try server.connect()
        let started = Clock.monotonicMilliseconds()
        let trickle = Array("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: \(String(repeating: "s", count: 100))".utf8)
        var answer: TestResponse?
        var closed = false
        for byte in trickle {
            if (try? client.fd.send([byte], from: 0)) == nil { closed = true; break }
            if try waitFor(client.fd, .readable, timeoutMilliseconds: 100) {
                answer = try client.readResponse()
                closed = true
                break
            }
        }
        let elapsed = Clock.monotonicMilliseconds() - started
        #expect(closed)
        #expect(answer?.status == 408)
        #expect(elapsed >= 900, "cut after \(elapsed) ms")
        #expect(client.readsEndOfFile())
    }

    @Test("an idle keep-alive connection is closed after the idle time-out")
    func idleTimeout() throws {
        let server = try Self.start { $0.idleTimeoutMilliseconds = 500 }
        defer { server.stop() }
        let client = try server.connect()
        try client.send(Self.get("/x", port: server.port))
        #expect(try client.readResponse()?.status == 200)
        let started = Clock.monotonicMilliseconds()
        #expect(client.readsEndOfFile())
        let elapsed = Clock.monotonicMilliseconds() - started
        #expect(elapsed >= 400, "closed after \(elapsed) ms")
    }

    @Test("1,000 connections in a row are served and closed promptly; the server stays responsive")
    func manyConnections() throws {
        let server = try Self.start()
        defer { server.stop() }
        for index in 0..<1000 {
            let client = try server.connect()
            if index % 2 == 0 {
                try client.send(Self.get("/n/\(index)", port: server.port, close: true))
                #expect(try client.readResponse()?.status == 200)
            }
            // Odd ones hang up without a word.
        }
        var open = Int.max
        for _ in 0..<50 {
            let probe = try server.connect()
            try probe.send(Self.get("/count", port: server.port, close: true))
            open = Int(try #require(try probe.readResponse()).text) ?? Int.max
            if open <= 2 { break }
            Clock.sleep(milliseconds: 20)
        }
        #expect(open <= 2, "\(open) connections still open")
    }

    @Test("past the connection cap a client gets 503 and a close; a freed slot serves again")
    func connectionCap() throws {
        let server = try Self.start { $0.maxConnections = 8 }
        defer { server.stop() }
        var held: [TestClient] = []
        for index in 0..<8 {
            let client = try server.connect()
            try client.send(Self.get("/held/\(index)", port: server.port))
            #expect(try client.readResponse()?.status == 200)
            held.append(client)
        }
        let extra = try server.connect()
        let refusal = try #require(try extra.readResponse())
        #expect(refusal.status == 503)
        #expect(refusal.text.hasPrefix(#"{"error":"busy","#))
        #expect(extra.readsEndOfFile())

        held.removeFirst()  // closes it
        var served = false
        for _ in 0..<50 where !served {
            let again = try server.connect()
            try again.send(Self.get("/again", port: server.port))
            served = try again.readResponse()?.status == 200
            if !served { Clock.sleep(milliseconds: 20) }
        }
        #expect(served)
    }

    @Test("an IPv6 loopback listener serves and checks the peer's uid too",
          .enabled(if: IPv6Loopback.available, "this host has no IPv6 loopback (::1)"))
    func ipv6() throws {
        let loopback = SocketAddress(family: .inet6, address: [UInt8](repeating: 0, count: 15) + [1], port: 0)
        let server = try RunningServer(listening: loopback, handler: { _, connection in
            .json(200, connection.peerUID.map { .int(Int64($0)) } ?? .null)
        })
        defer { server.stop() }
        let client = try server.connect()
        try client.send("GET / HTTP/1.1\r\nHost: [::1]:\(server.port)\r\n\r\n")
        #expect(try client.readResponse()?.text == String(ProcessControl.effectiveUID))
    }

    @Test("a malformed request line gets 400 and a close")
    func malformed() throws {
        let server = try Self.start()
        defer { server.stop() }
        let client = try server.connect()
        try client.send("GARBAGE\r\n\r\n")
        #expect(try client.readResponse()?.status == 400)
        #expect(client.readsEndOfFile())
    }
}
