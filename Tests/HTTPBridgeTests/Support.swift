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
}

/// A raw HTTP client: sends bytes as given, reads responses framed by Content-Length.
final class TestClient {
    let fd: FileDescriptor
    private var buffer: [UInt8] = []

    init(fd: FileDescriptor) { self.fd = fd }
    deinit { fd.close() }

    func send(_ text: String) throws {
        try fd.sendAll(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        try fd.sendAll(bytes)
    }

    /// The next response, or nil when the server closed first.
    func readResponse() throws -> TestResponse? {
        while true {
            if let response = try parseBuffered() { return response }
            guard try fill() else { return nil }
        }
    }

    /// The head of the next response (status and fields), leaving its body unread.
    func readHead() throws -> (status: Int, headers: HTTPHeaders)? {
        while headEnd() == nil {
            guard try fill() else { return nil }
        }
        guard let end = headEnd() else { return nil }
        let head = try parseHead(endingAt: end)
        buffer.removeFirst(end)
        return head
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

    private func parseBuffered() throws -> TestResponse? {
        guard let end = headEnd() else { return nil }
        let (status, headers) = try parseHead(endingAt: end)
        let length = status == 100 ? 0 : Int(headers["Content-Length"] ?? "0") ?? 0
        guard buffer.count >= end + length else { return nil }
        let body = Array(buffer[end..<end + length])
        buffer.removeFirst(end + length)
        return TestResponse(status: status, headers: headers, body: body)
    }

    /// Reads more into `buffer`; false when the server closed first.
    private func fill() throws -> Bool {
        let chunk = try fd.read(upTo: 65536)
        buffer += chunk
        return !chunk.isEmpty
    }

    /// The status and fields of the head at the start of `buffer`, which ends (its empty
    /// line included) at `end`.
    private func parseHead(endingAt end: Int) throws -> (status: Int, headers: HTTPHeaders) {
        let head = String(decoding: buffer[0..<end - 4], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw TestFailure("bad status line") }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw TestFailure("bad header line \(line)") }
            headers.append(String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingSpaces)
        }
        return (status, headers)
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index + 4
        }
        return nil
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
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
