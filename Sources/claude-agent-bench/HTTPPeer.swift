import AgentPOSIX
import Foundation
import Glibc
import HTTPCodec
import Synchronization

/// One HTTP request as a peer saw it.
struct PeerRequest: Sendable {
    let method: String
    let target: String
    let body: String
}

/// A peer's answer, and work to do once it is sent (the control browser's redirect).
struct PeerAnswer: Sendable {
    var status = 200
    var contentType = "application/json"
    var body = "{}"
    var afterwards: (@Sendable () -> Void)? = nil
}

/// A tiny HTTP/1.1 server on 127.0.0.1 standing in for a token endpoint or the control
/// browser: a thread per connection, one request per connection. It counts requests and
/// the time its handler took, so that time can be taken out of the agent's overhead.
final class HTTPPeer: Sendable {
    let port: UInt16
    private let handler: @Sendable (PeerRequest) -> PeerAnswer
    private let counters = Mutex<(requests: Int, handlerNanoseconds: UInt64)>((0, 0))

    init(_ handler: @escaping @Sendable (PeerRequest) -> PeerAnswer) throws {
        let server = try LoopbackServer()
        port = server.port
        self.handler = handler
        server.accept { [self] fd in serve(fd) }
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var requests: Int { counters.withLock { $0.requests } }
    var handlerMilliseconds: Double { Double(counters.withLock { $0.handlerNanoseconds }) / 1e6 }
    func reset() { counters.withLock { $0 = (0, 0) } }

    private func serve(_ fd: FileDescriptor) {
        var reader = HTTPReader(fd: fd)
        guard let request = reader.nextRequest() else { return }
        let began = Clock.monotonicNanoseconds()
        let answer = handler(PeerRequest(method: request.method, target: request.target,
                                         body: String(decoding: request.body, as: UTF8.self)))
        counters.withLock {
            $0.requests += 1
            $0.handlerNanoseconds += Clock.monotonicNanoseconds() - began
        }
        let body = Array(answer.body.utf8)
        let head = "HTTP/1.1 \(answer.status) X\r\nContent-Type: \(answer.contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        do throws(Errno) { try fd.sendAll(Array(head.utf8) + body) } catch { return }
        if let afterwards = answer.afterwards {
            try? fd.shutdown(.write)
            afterwards()
        }
    }
}

/// A blocking HTTP/1.1 exchange with a loopback server: status and body.
func httpRequest(port: UInt16, _ method: String, _ target: String, body: String? = nil,
                 headers: [String] = []) throws -> (status: Int, body: String) {
    guard let address = SocketAddress(parsing: "127.0.0.1:\(port)") else { throw BenchError("bad port \(port)") }
    let fd: FileDescriptor
    do throws(Errno) { fd = try TCPSocket.connect(address) } catch { throw BenchError("connect 127.0.0.1:\(port): \(error)") }
    defer { fd.close() }
    var lines = ["\(method) \(target) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Connection: close"] + headers
    if let body { lines += ["Content-Type: application/json", "Content-Length: \(body.utf8.count)"] }
    do throws(Errno) {
        try fd.sendAll(Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + (body ?? "")).utf8))
    } catch {
        throw BenchError("\(method) \(target): \(error)")
    }
    var reader = HTTPReader(fd: fd)
    let answer = try reader.response(to: method)
    return (answer.response.status, String(decoding: answer.response.body, as: UTF8.self))
}
