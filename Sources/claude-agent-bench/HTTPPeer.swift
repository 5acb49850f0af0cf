import AgentPOSIX
import Foundation
import Glibc
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
    private let listener: FileDescriptor
    private let handler: @Sendable (PeerRequest) -> PeerAnswer
    private let counters = Mutex<(requests: Int, handlerNanoseconds: UInt64)>((0, 0))

    init(_ handler: @escaping @Sendable (PeerRequest) -> PeerAnswer) throws {
        guard let any = SocketAddress(parsing: "127.0.0.1:0") else { throw BenchError("no loopback address") }
        do throws(Errno) {
            listener = try TCPSocket.listen(any, backlog: 1024)
            try listener.setNonBlocking(false)
            port = try TCPSocket.localAddress(of: listener).port
        } catch {
            throw BenchError("cannot listen on loopback: \(error)")
        }
        self.handler = handler
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var requests: Int { counters.withLock { $0.requests } }
    var handlerMilliseconds: Double { Double(counters.withLock { $0.handlerNanoseconds }) / 1e6 }
    func reset() { counters.withLock { $0 = (0, 0) } }

    private func acceptLoop() {
        while true {
            let fd: Int32
            do throws(Errno) {
                fd = try syscall("accept") { Glibc.accept(listener.rawValue, nil, nil) }
            } catch where error == .connectionAborted {
                continue
            } catch {
                return
            }
            let thread = Thread { [self] in serve(fd) }
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { _ = Glibc.close(fd) }
        guard let request = HTTPPeer.readRequest(fd) else { return }
        let began = nowNanoseconds()
        let answer = handler(request)
        counters.withLock {
            $0.requests += 1
            $0.handlerNanoseconds += nowNanoseconds() - began
        }
        let body = Array(answer.body.utf8)
        let head = "HTTP/1.1 \(answer.status) X\r\nContent-Type: \(answer.contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        HTTPPeer.writeAll(fd, Array(head.utf8) + body)
        if let afterwards = answer.afterwards {
            _ = shutdown(fd, Int32(SHUT_WR))
            afterwards()
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            guard let n = try? syscall("send", { bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) } }),
                  n > 0 else { return }
            sent += n
        }
    }

    /// Reads one request: the head up to its blank line, then Content-Length bytes.
    static func readRequest(_ fd: Int32) -> PeerRequest? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        var headEnd: Int?
        var wanted = Int.max
        while bytes.count < wanted {
            guard let n = try? syscall("recv", { chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) } }),
                  n > 0 else { break }
            bytes += chunk[0..<n]
            if headEnd == nil, let end = find([13, 10, 13, 10], in: bytes) {
                headEnd = end + 4
                let head = String(decoding: bytes[0..<end], as: UTF8.self).lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                wanted = end + 4 + length
            }
        }
        guard let headEnd else { return nil }
        let line = String(decoding: bytes[0..<headEnd], as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = line.split(separator: " ")
        guard parts.count >= 2 else { return nil }
        return PeerRequest(method: String(parts[0]), target: String(parts[1]),
                           body: String(decoding: bytes[headEnd...], as: UTF8.self))
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<start + needle.count].elementsEqual(needle) {
            return start
        }
        return nil
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
    HTTPPeer.writeAll(fd.rawValue, Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + (body ?? "")).utf8))
    var answer: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
        guard let n = try? syscall("recv", { chunk.withUnsafeMutableBytes { recv(fd.rawValue, $0.baseAddress!, $0.count, 0) } }),
              n > 0 else { break }
        answer += chunk[0..<n]
    }
    let text = String(decoding: answer, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { throw BenchError("\(method) \(target): no HTTP answer") }
    let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
    return (status, String(text[split.upperBound...]))
}
