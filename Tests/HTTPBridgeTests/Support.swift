import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient
import Glibc
import HTTPBridge
import HTTPCodec
import Testing

/// Runs `body` on a new thread (pthreads directly: the library under test uses no
/// Foundation, and neither do its tests).
final class TestThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    private var thread = pthread_t()

    init(_ body: @escaping () -> Void) {
        let box = Unmanaged.passRetained(Box(body))
        let result = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
        precondition(result == 0, "pthread_create failed")
    }

    func join() {
        pthread_join(thread, nil)
    }
}

/// An HTTP server on 127.0.0.1 with a free port, serving on its own thread until `stop()`.
final class RunningServer {
    let server: HTTPServer
    let port: UInt16
    private let thread: TestThread

    convenience init(listening address: SocketAddress = SocketAddress(family: .inet, address: [127, 0, 0, 1], port: 0),
                     configuration: HTTPServerConfiguration = HTTPServerConfiguration(), handler: @escaping HTTPHandler) throws {
        try self.init(listening: address, configuration: configuration,
                      streamingHandler: { request, info, _ in .response(handler(request, info)) })
    }

    init(listening address: SocketAddress = SocketAddress(family: .inet, address: [127, 0, 0, 1], port: 0),
         configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
         streamingHandler: @escaping HTTPStreamingHandler) throws {
        Signals.ignoreBrokenPipe()
        let server = try HTTPServer(listening: [address], configuration: configuration, streamingHandler: streamingHandler)
        self.server = server
        port = server.boundAddresses[0].port
        thread = TestThread { try? server.run() }
    }

    func stop() {
        server.stop()
        thread.join()
    }

    var address: SocketAddress { server.boundAddresses[0] }

    /// A blocking client connection with a 5 s receive/send time-out.
    func connect() throws -> TestClient {
        let fd = try TCPSocket.connect(address)
        try fd.setTimeouts(milliseconds: 5000)
        return TestClient(fd: fd)
    }
}

/// One parsed response as a test reads it.
struct TestResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }

    init(_ response: HTTPReceivedResponse) {
        status = response.status
        headers = response.headers
        body = response.body
    }
}

/// A raw HTTP client: sends bytes as given, reads responses with the codec's parser.
final class TestClient {
    let fd: FileDescriptor
    private var buffer: [UInt8] = []

    private var isClosed = false

    init(fd: FileDescriptor) { self.fd = fd }
    deinit { close() }

    /// Closes the connection, once: tests run in parallel in one process, so a second
    /// close could hit a descriptor number another test's server has been given since.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        fd.close()
    }

    func send(_ text: String) throws {
        try fd.sendAll(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        try fd.sendAll(bytes)
    }

    /// The next response (to a request of `method`), read by the codec's response parser,
    /// or nil when the server closed before a byte of it.
    func readResponse(to method: String = "GET") throws -> TestResponse? {
        var parser = HTTPResponseParser(requestMethod: method)
        var received = !buffer.isEmpty
        parser.append(buffer)
        buffer = []
        while true {
            if let response = try parser.next() {
                buffer = Array(parser.bytesAfterResponse)
                return TestResponse(response)
            }
            let chunk = try fd.read(upTo: 65536)
            if chunk.isEmpty {
                guard received else { return nil }
                return TestResponse(try parser.finish())
            }
            received = true
            parser.append(chunk)
        }
    }

    /// The head of the next response (status and fields), leaving its body unread: the
    /// parser reads it as the answer to HEAD, which has none.
    func readHead() throws -> (status: Int, headers: HTTPHeaders)? {
        guard let head = try readResponse(to: "HEAD") else { return nil }
        return (head.status, head.headers)
    }

    /// Exactly `count` bytes, or fewer when the server closes first (an interim answer
    /// the parser would skip, such as 100 Continue).
    func read(count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard try fill() else { break }
        }
        let bytes = Array(buffer.prefix(count))
        buffer.removeFirst(bytes.count)
        return bytes
    }

    /// The next chunk of a chunked body (RFC 9112 §7.1); empty for the last one, nil
    /// when the server closed first.
    func readChunk() throws -> [UInt8]? {
        func line() throws -> String? {
            while true {
                if let end = (0..<max(0, buffer.count - 1)).first(where: { buffer[$0] == 13 && buffer[$0 + 1] == 10 }) {
                    let text = String(decoding: buffer[0..<end], as: UTF8.self)
                    buffer.removeFirst(end + 2)
                    return text
                }
                guard try fill() else { return nil }
            }
        }
        guard let sizeLine = try line(), let size = Int(sizeLine, radix: 16) else { return nil }
        while buffer.count < size + 2 {
            guard try fill() else { return nil }
        }
        let data = Array(buffer[0..<size])
        buffer.removeFirst(size + 2)
        return data
    }

    /// Everything until the server closes, buffered bytes first.
    func readToEnd() throws -> [UInt8] {
        var all = buffer
        buffer = []
        while true {
            let chunk = try fd.read(upTo: 65536)
            if chunk.isEmpty { return all }
            all += chunk
        }
    }

    /// Whether the server closed the connection (reads to end of file, dropping bytes).
    func readsEndOfFile() -> Bool {
        while true {
            guard let chunk = try? fd.read(upTo: 65536) else { return false }
            if chunk.isEmpty { return true }
        }
    }

    /// Reads more into `buffer`; false when the server closed first.
    private func fill() throws -> Bool {
        let chunk = try fd.read(upTo: 65536)
        buffer += chunk
        return !chunk.isEmpty
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A stand-in agent: answers each operation from a table and records the calls.
final class FakeAgent: AgentCalling {
    var answers: [Op: Result<JSONObject, AgentClientError>] = [:]
    private(set) var calls: [(op: Op, fields: JSONObject)] = []

    func call(_ op: Op, _ fields: JSONObject) throws(AgentClientError) -> JSONObject {
        calls.append((op, fields))
        guard let answer = answers[op] else { throw AgentClientError(.agentNotRunning, "no agent in this test") }
        return try answer.get()
    }
}

/// A request as a parser would produce it, with the Host a client of 127.0.0.1:7777 sends.
func request(_ method: String, _ target: String, headers: [(String, String)] = [], body: String = "",
             host: String = "127.0.0.1:7777") -> HTTPRequest {
    var fields = HTTPHeaders()
    fields.append("Host", host)
    for (name, value) in headers { fields.append(name, value) }
    return HTTPRequest(method: method, target: target, headers: fields, body: Array(body.utf8))
}

let bridgeAddress = SocketAddress(family: .inet, address: [127, 0, 0, 1], port: 7777)
let testConnection = ConnectionInfo(id: 1, peer: SocketAddress(family: .inet, address: [127, 0, 0, 1], port: 50000),
                                    local: bridgeAddress, peerUID: 1000)
let testSecret = BridgeSecret(value: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I")

/// Whether this host can listen on ::1 (a container may have no IPv6): tests of IPv6
/// loopback are skipped, with this reason shown, where it cannot.
enum IPv6Loopback {
    static let available: Bool = {
        let address = SocketAddress(family: .inet6, address: [UInt8](repeating: 0, count: 15) + [1], port: 0)
        do {
            let listener = try TCPSocket.listen(address)
            listener.close()
            return true
        } catch {
            return false
        }
    }()
}
