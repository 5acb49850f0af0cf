import AgentPOSIX
import Glibc
import HTTPBridge
import Synchronization
import Testing

/// Streamed answers: a producer thread fills the response while the server's loop sends it.
@Suite("The HTTP server's streamed answers", .serialized)
struct HTTPStreamTests {
    /// What the producer of a test saw, shared with the test's thread.
    final class Probe: Sendable {
        let cancelled = Mutex(false)
        let written = Mutex(0)
        let release = Mutex(false)

        /// Polls `condition` every 5 ms, at most 2,000 times.
        func waitUntil(_ condition: () -> Bool) -> Bool {
            for _ in 0..<2000 {
                if condition() { return true }
                Clock.sleep(milliseconds: 5)
            }
            return condition()
        }
    }

    /// A server whose `/stream` answers through a stream run by `produce` on a new thread,
    /// and whose other paths answer at once with their path.
    static func start(_ adjust: (inout HTTPServerConfiguration) -> Void = { _ in },
                      produce: @escaping @Sendable (HTTPResponseStream) -> Void) throws -> RunningServer {
        var configuration = HTTPServerConfiguration()
        adjust(&configuration)
        return try RunningServer(configuration: configuration) { request, info, server in
            guard request.path == "/stream" else {
                return .response(HTTPResponse(status: 200, body: Array(request.path.utf8)))
            }
            let stream = server.makeStream(for: info)
            _ = TestThread { produce(stream) }
            return .stream(stream)
        }
    }

    @Test("chunks leave as the producer writes them; a pipelined request waits its turn, then is answered")
    func chunksAsTheyArrive() throws {
        let probe = Probe()
        let server = try Self.start { stream in
            stream.begin(status: 200, headers: ["Content-Type": "text/event-stream"])
            stream.write(Array("event: one\n\n".utf8))
            // The second chunk waits until the test has read the first: nothing is buffered whole.
            _ = probe.waitUntil { probe.release.withLock { $0 } }
            stream.write(Array("event: two\n\n".utf8))
            stream.finish()
        }
        defer { server.stop() }
        let client = try server.connect()
        try client.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try #require(try client.readHead())
        #expect(head.status == 200)
        #expect(head.headers["Transfer-Encoding"] == "chunked")
        #expect(head.headers["Content-Length"] == nil)
        #expect(head.headers["Content-Type"] == "text/event-stream")
        #expect(try client.readChunk() == Array("event: one\n\n".utf8))
        probe.release.withLock { $0 = true }
        #expect(try client.readChunk() == Array("event: two\n\n".utf8))
        #expect(try client.readChunk() == [])
        #expect(try client.readResponse()?.text == "/after")
    }

    @Test("a client that hangs up mid-stream cancels the producer at once")
    func hangUpCancels() throws {
        let probe = Probe()
        let server = try Self.start { stream in
            stream.onCancel { probe.cancelled.withLock { $0 = true } }
            stream.begin(status: 200, headers: [:])
            for _ in 0..<10_000 where !stream.isCancelled {
                stream.write([UInt8](repeating: 0x61, count: 1024))
                Clock.sleep(milliseconds: 1)
            }
            stream.finish()
        }
        defer { server.stop() }
        let client = try server.connect()
        try client.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readHead()?.status == 200)
        client.close()
        #expect(probe.waitUntil { probe.cancelled.withLock { $0 } })
        let other = try server.connect()
        try other.send("GET /still HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try other.readResponse()?.text == "/still")
    }

    @Test("a client that stops reading is dropped at the backlog cap, the producer cancelled; others are served")
    func stalledReaderIsBounded() throws {
        let probe = Probe()
        let cap = 1 << 20
        let server = try Self.start({ $0.maxStreamBacklog = cap }) { stream in
            stream.onCancel { probe.cancelled.withLock { $0 = true } }
            stream.begin(status: 200, headers: [:])
            let piece = [UInt8](repeating: 0x62, count: 64 * 1024)
            // At most 256 MiB: far past the cap, so only the cap can end this early.
            for _ in 0..<4096 where !stream.isCancelled {
                stream.write(piece)
                probe.written.withLock { $0 += piece.count }
                Clock.sleep(milliseconds: 1)
            }
            stream.finish()
        }
        defer { server.stop() }
        let client = try server.connect()
        try client.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(probe.waitUntil { probe.cancelled.withLock { $0 } })
        #expect(probe.written.withLock { $0 } < 256 << 20)
        let other = try server.connect()
        try other.send("GET /still HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try other.readResponse()?.text == "/still")
        _ = client
    }

    @Test("respond() sends a whole answer with its length; HTTP/1.0 gets the stream until close")
    func wholeAnswersAndOldClients() throws {
        let server = try Self.start { stream in
            stream.respond(HTTPResponse(status: 503, body: Array("down".utf8)))
        }
        defer { server.stop() }
        let client = try server.connect()
        try client.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        let whole = try #require(try client.readResponse())
        #expect(whole.status == 503)
        #expect(whole.text == "down")
        #expect(try client.readResponse()?.text == "/next")

        let streaming = try Self.start { stream in
            stream.begin(status: 200, headers: [:])
            stream.write(Array("old".utf8))
            stream.finish()
        }
        defer { streaming.stop() }
        let old = try streaming.connect()
        try old.send("GET /stream HTTP/1.0\r\n\r\n")
        let head = try #require(try old.readHead())
        #expect(head.headers["Transfer-Encoding"] == nil)
        #expect(head.headers["Connection"] == "close")
        #expect(try old.readToEnd() == Array("old".utf8))
    }
}
