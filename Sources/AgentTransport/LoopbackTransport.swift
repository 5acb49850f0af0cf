import AgentPOSIX
import AgentProtocol
import Glibc

/// Sends plain `http://` exchanges with this machine (127.0.0.0/8, ::1, localhost) in
/// process, and everything else through `remote`.
///
/// The control browser always listens on loopback, and so does a local token endpoint:
/// HTTP/1.1 with `Connection: close` to a peer on the same host is a few dozen lines
/// and needs no TLS, so it does not need a `claude-agent-fetch` child (whose start
/// costs tens of milliseconds, most of an approval's time). Anything that leaves the
/// machine, or is TLS, or is a redirect to be followed, goes to `remote`.
public struct LoopbackTransport: HTTPTransport {
    public let remote: any HTTPTransport

    public init(remote: any HTTPTransport) {
        self.remote = remote
    }

    public func send(_ exchange: HTTPExchange) -> HTTPOutcome {
        guard let target = LoopbackTarget(url: exchange.url) else { return remote.send(exchange) }
        let outcome = LoopbackHTTP.send(exchange, to: target)
        if exchange.followsRedirects, case .answered(let status, _) = outcome, (300..<400).contains(status) {
            return remote.send(exchange)
        }
        return outcome
    }
}

/// Where a loopback `http://` URL points.
struct LoopbackTarget: Equatable {
    let address: SocketAddress
    /// `host[:port]` as written, for the Host header.
    let authority: String
    /// Path and query, at least "/".
    let target: String

    init?(url: String) {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(7)
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = String(rest[..<authorityEnd])
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var target = String(rest[authorityEnd...])
        if let fragment = target.firstIndex(of: "#") { target = String(target[..<fragment]) }
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        let hasPort = authority.hasPrefix("[") ? authority.contains("]:") : authority.contains(":")
        guard let address = SocketAddress(parsing: hasPort ? authority : authority + ":80"), address.isLoopback,
              target.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { return nil }
        self.address = address
        self.authority = authority
        self.target = target
    }
}

/// One HTTP/1.1 exchange over a loopback TCP connection: the request with
/// `Connection: close`, then the answer read to the end (`Content-Length`, chunked, or
/// the close), all within the exchange's time-out.
enum LoopbackHTTP {
    static func send(_ exchange: HTTPExchange, to target: LoopbackTarget) -> HTTPOutcome {
        let seconds = exchange.timeoutSeconds.isFinite && exchange.timeoutSeconds > 0 ? min(exchange.timeoutSeconds, 3600) : 3600
        let deadline = Clock.monotonicMilliseconds() + Int64(seconds * 1000)
        let fd: FileDescriptor
        do throws(Errno) {
            fd = try TCPSocket.connect(target.address, timeoutMilliseconds: Int(max(1, deadline - Clock.monotonicMilliseconds())))
        } catch {
            // No connection, so not a byte of the request left: any request may be resent.
            switch error.code {
            case ECONNREFUSED: return .notSent("connection refused")
            case ETIMEDOUT: return .notSent("connecting " + HTTPOutcome.timedOut(after: exchange.timeoutSeconds))
            default: return .notSent("cannot connect: \(error)")
            }
        }
        defer { fd.close() }
        var head = "\(exchange.method) \(target.target) HTTP/1.1\r\nHost: \(target.authority)\r\nConnection: close\r\n"
        for header in exchange.headers { head += "\(header.name): \(header.value)\r\n" }
        if exchange.method != "GET" || !exchange.body.isEmpty { head += "Content-Length: \(exchange.body.count)\r\n" }
        var request = Array((head + "\r\n").utf8) + exchange.body
        defer { Memory.wipe(&request) }
        do throws(Errno) {
            try fd.setTimeouts(milliseconds: Int(max(1, deadline - Clock.monotonicMilliseconds())))
            try fd.sendAll(request)
        } catch {
            return .failed(error.code == EAGAIN ? HTTPOutcome.timedOut(after: exchange.timeoutSeconds) : "connection lost: \(error)")
        }
        var answer: [UInt8] = []
        defer { Memory.wipe(&answer) }
        let limit = HTTPExchange.maximumBodyLength + 64 * 1024
        while true {
            let left = deadline - Clock.monotonicMilliseconds()
            guard left > 0 else { return .failed(HTTPOutcome.timedOut(after: exchange.timeoutSeconds)) }
            let chunk: [UInt8]
            do throws(Errno) {
                try fd.setTimeouts(milliseconds: Int(left))
                chunk = try fd.read(upTo: 16 * 1024)
            } catch {
                if error.code == EAGAIN || error.code == EWOULDBLOCK { return .failed(HTTPOutcome.timedOut(after: exchange.timeoutSeconds)) }
                return .failed("connection lost: \(error)")
            }
            if chunk.isEmpty { break }
            answer += chunk
            guard answer.count <= limit else { return .failed("an answer over \(HTTPExchange.maximumBodyLength) bytes") }
            if let complete = parse(answer, method: exchange.method), complete.finished { return complete.outcome }
        }
        guard let parsed = parse(answer, method: exchange.method, atEnd: true) else { return .failed("a malformed HTTP answer") }
        return parsed.outcome
    }

    /// The answer in `bytes`, if its head is complete: finished when the body is too
    /// (by length or chunks), or at the connection's end when neither says.
    static func parse(_ bytes: [UInt8], method: String, atEnd: Bool = false) -> (outcome: HTTPOutcome, finished: Bool)? {
        guard let headEnd = find([13, 10, 13, 10], in: bytes, from: 0) else { return nil }
        let lines = String(decoding: bytes[..<headEnd], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ", maxSplits: 2) ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), statusParts[1].count == 3,
              let status = Int(statusParts[1]), (100...599).contains(status) else {
            return atEnd ? (.failed("a malformed HTTP answer"), true) : nil
        }
        var length: Int?
        var chunked = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingASCIISpaces()
            if name == "content-length" {
                // Digits only: a sign or a length past any body we accept is malformed.
                guard let parsed = Int(value), parsed >= 0, value.allSatisfy(\.isASCIIDigit) else {
                    return (.failed("a malformed HTTP answer"), true)
                }
                length = parsed
            }
            if name == "transfer-encoding" && value.lowercased().contains("chunked") { chunked = true }
        }
        let body = Array(bytes[(headEnd + 4)...])
        if method == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status) {
            return (.answered(status: status, body: []), true)
        }
        if chunked {
            switch dechunk(body) {
            case .complete(let decoded): return (.answered(status: status, body: decoded), true)
            case .incomplete: return atEnd ? (.failed("a truncated HTTP answer"), true) : nil
            case .malformed: return (.failed("a malformed HTTP answer"), true)
            }
        }
        if let length {
            if body.count >= length { return (.answered(status: status, body: Array(body.prefix(length))), true) }
            return atEnd ? (.failed("a truncated HTTP answer"), true) : nil
        }
        return atEnd ? (.answered(status: status, body: body), true) : nil
    }

    enum Dechunked: Equatable {
        case complete([UInt8])
        case incomplete
        case malformed
    }

    /// RFC 9112 §7.1 chunked coding; extensions and trailers are skipped.
    static func dechunk(_ body: [UInt8]) -> Dechunked {
        var decoded: [UInt8] = []
        var position = 0
        while true {
            guard let lineEnd = find([13, 10], in: body, from: position) else { return .incomplete }
            let sizeText = String(decoding: body[position..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            // A size past what is buffered is only waited for while the bytes could still
            // come; checked against the remainder, so a huge size cannot overflow.
            guard let size = Int(sizeText.trimmingASCIISpaces(), radix: 16), size >= 0 else { return .malformed }
            position = lineEnd + 2
            if size == 0 { return .complete(decoded) }
            guard size <= HTTPExchange.maximumBodyLength else { return .malformed }
            guard body.count - position >= size + 2 else { return .incomplete }
            decoded += body[position..<position + size]
            position += size + 2
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0] && haystack[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

private extension Substring {
    func trimmingASCIISpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
