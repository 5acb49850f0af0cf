import AgentPOSIX
import Foundation
import Glibc

/// A Messages-API stand-in for the endpoint benchmark: HTTP/1.1 with keep-alive, a thread
/// per connection, answers made in microseconds so that what is measured is the path, not
/// the upstream.
///
/// - `POST /v1/messages`: a small Message, with its length.
/// - `POST /v1/stream?events=N&gap=MS`: N server-sent events, chunked, the first at once,
///   then one every MS milliseconds.
/// - `POST /v1/bulk?bytes=N`: N bytes in 64 KiB chunks, as fast as the client takes them.
final class MessagesUpstream: Sendable {
    let port: UInt16
    private let listener: FileDescriptor

    init() throws {
        guard let any = SocketAddress(parsing: "127.0.0.1:0") else { throw BenchError("no loopback address") }
        do throws(Errno) {
            listener = try TCPSocket.listen(any, backlog: 1024)
            try listener.setNonBlocking(false)
            port = try TCPSocket.localAddress(of: listener).port
        } catch {
            throw BenchError("cannot listen on loopback: \(error)")
        }
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    static let message = Array(#"{"id":"msg_bench","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Hello."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":2}}"#.utf8)
    static let event = Array("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello \"}}\n\n".utf8)

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
            var on: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            let thread = Thread { [self] in serve(FileDescriptor(rawValue: fd)) }
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }

    private func serve(_ fd: FileDescriptor) {
        defer { fd.close() }
        var reader = ByteReader(fd: fd)
        while let head = reader.head() {
            let lines = head.split(separator: "\r\n")
            let target = lines.first?.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
            var length = 0
            for line in lines.dropFirst() where line.lowercased().hasPrefix("content-length:") {
                length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
            guard reader.skip(length) else { return }
            let path = String(target.split(separator: "?").first ?? "")
            let query = Dictionary(target.split(separator: "?").dropFirst().first?.split(separator: "&").compactMap { pair -> (String, Int)? in
                let parts = pair.split(separator: "=")
                guard parts.count == 2, let value = Int(parts[1]) else { return nil }
                return (String(parts[0]), value)
            } ?? [], uniquingKeysWith: { $1 })
            do throws(Errno) {
                switch path {
                case "/v1/stream":
                    try fd.sendAll(Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
                    for index in 0..<min(query["events"] ?? 10, 100_000) {
                        if index > 0, let gap = query["gap"], gap > 0 { usleep(UInt32(min(gap, 10_000)) * 1000) }
                        try fd.sendAll(chunk(Self.event))
                    }
                    try fd.sendAll(Array("0\r\n\r\n".utf8))
                case "/v1/bulk":
                    try fd.sendAll(Array("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
                    let piece = chunk([UInt8](repeating: 0x78, count: 65536))
                    for _ in 0..<(min(query["bytes"] ?? 0, 1 << 34) / 65536) { try fd.sendAll(piece) }
                    try fd.sendAll(Array("0\r\n\r\n".utf8))
                default:
                    try fd.sendAll(Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(Self.message.count)\r\n\r\n".utf8)
                                   + Self.message)
                }
            } catch {
                return
            }
        }
    }

    private func chunk(_ bytes: [UInt8]) -> [UInt8] {
        Array("\(String(bytes.count, radix: 16))\r\n".utf8) + bytes + [13, 10]
    }
}

/// Buffered reads of HTTP/1.1 heads and bodies from a blocking socket, for the benchmark's
/// own client and upstream.
struct ByteReader {
    let fd: FileDescriptor
    private var buffer: [UInt8] = []
    private var start = 0

    init(fd: FileDescriptor) { self.fd = fd }

    private mutating func fill() -> Bool {
        if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
        guard let more = try? fd.read(upTo: 256 * 1024), !more.isEmpty else { return false }
        buffer += more
        return true
    }

    /// The head up to the blank line (without it), or nil at the end of the stream.
    mutating func head() -> String? {
        while true {
            if buffer.count - start >= 4 {
                for index in start...(buffer.count - 4)
                where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
                    let text = String(decoding: buffer[start..<index], as: UTF8.self)
                    start = index + 4
                    return text
                }
            }
            guard fill() else { return nil }
        }
    }

    /// One line ending in CRLF, without it.
    mutating func line() -> String? {
        while true {
            if buffer.count - start >= 2 {
                for index in start..<(buffer.count - 1) where buffer[index] == 13 && buffer[index + 1] == 10 {
                    let text = String(decoding: buffer[start..<index], as: UTF8.self)
                    start = index + 2
                    return text
                }
            }
            guard fill() else { return nil }
        }
    }

    /// Drops `count` bytes; false when the stream ends first.
    mutating func skip(_ count: Int) -> Bool {
        var left = count
        while left > 0 {
            if start == buffer.count { guard fill() else { return false } }
            let take = min(left, buffer.count - start)
            start += take
            left -= take
        }
        return true
    }

    /// Reads a response's body (Content-Length or chunked) to its end; returns its size and
    /// when its first byte arrived (monotonic nanoseconds), or nil if the stream broke.
    mutating func body(of head: String) -> (bytes: Int, firstByte: UInt64)? {
        let lines = head.split(separator: "\r\n").map { $0.lowercased() }
        if let field = lines.first(where: { $0.hasPrefix("content-length:") }),
           let length = Int(field.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) {
            let first = DispatchTime.now().uptimeNanoseconds
            return skip(length) ? (length, first) : nil
        }
        var total = 0
        var first: UInt64 = 0
        while let sizeLine = line(), let size = Int(sizeLine, radix: 16) {
            if first == 0 { first = DispatchTime.now().uptimeNanoseconds }
            if size == 0 { return line() != nil ? (total, first) : nil }
            guard skip(size + 2) else { return nil }
            total += size
        }
        return nil
    }
}
