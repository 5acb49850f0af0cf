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

    init() throws {
        let server = try LoopbackServer()
        port = server.port
        server.accept(Self.serve)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    static let message = Array(#"{"id":"msg_bench","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Hello."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":2}}"#.utf8)
    static let event = Array("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello \"}}\n\n".utf8)

    /// Answers the requests of one kept connection until the client closes it.
    private static func serve(_ fd: FileDescriptor) {
        var reader = HTTPReader(fd: fd)
        while let request = reader.nextRequest() {
            let events = request.queryValue("events").flatMap { Int($0) }
            let gapMilliseconds = request.queryValue("gap").flatMap { Int64($0) }
            let bytes = request.queryValue("bytes").flatMap { Int($0) }
            do throws(Errno) {
                switch request.path {
                case "/v1/stream":
                    try fd.sendAll(Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
                    for index in 0..<min(max(events ?? 10, 0), 100_000) {
                        if index > 0, let gapMilliseconds, gapMilliseconds > 0 {
                            Clock.sleep(milliseconds: min(gapMilliseconds, BenchLimits.maxStreamGapMilliseconds))
                        }
                        try fd.sendAll(chunk(event))
                    }
                    try fd.sendAll(Array("0\r\n\r\n".utf8))
                case "/v1/bulk":
                    try fd.sendAll(Array("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
                    let piece = chunk([UInt8](repeating: 0x78, count: 65536))
                    for _ in 0..<(min(max(bytes ?? 0, 0), 1 << 34) / 65536) { try fd.sendAll(piece) }
                    try fd.sendAll(Array("0\r\n\r\n".utf8))
                default:
                    try fd.sendAll(Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(message.count)\r\n\r\n".utf8)
                                   + message)
                }
            } catch {
                return
            }
        }
    }

    private static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        Array("\(String(bytes.count, radix: 16))\r\n".utf8) + bytes + [13, 10]
    }
}
