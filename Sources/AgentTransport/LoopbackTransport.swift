import AgentPOSIX
import AgentProtocol
import HTTPCodec

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
/// the close, read by `HTTPResponseParser`), all within the exchange's time-out.
enum LoopbackHTTP {
    static func send(_ exchange: HTTPExchange, to target: LoopbackTarget) -> HTTPOutcome {
        let timeout = exchange.boundedTimeoutMilliseconds
        let timedOut = HTTPOutcome.timedOut(afterMilliseconds: timeout)
        let deadline = Clock.monotonicMilliseconds().saturatingAdding(timeout)
        var fields: HTTPHeaders = ["Host": target.authority, "Connection": "close"]
        for header in exchange.headers { fields.append(header.name, header.value) }
        if exchange.method != "GET" || !exchange.body.isEmpty { fields.append("Content-Length", String(exchange.body.count)) }
        var request: [UInt8]
        do throws(HTTPHeadError) {
            request = try HTTPHeadWriter.request(method: exchange.method, target: target.target, fields: fields)
        } catch {
            // A field that would split the head (a CR or LF in a value): refused before it reaches a socket.
            return .notSent("cannot write the request: \(error)")
        }
        request += exchange.body
        defer { Memory.wipe(&request) }
        let fd: FileDescriptor
        do throws(Errno) {
            fd = try TCPSocket.connect(target.address, timeoutMilliseconds: deadline - Clock.monotonicMilliseconds())
        } catch {
            // No connection, so not a byte of the request left: any request may be resent.
            switch error {
            case .connectionRefused: return .notSent("connection refused")
            case .timedOut: return .notSent("connecting " + timedOut)
            default: return .notSent("cannot connect: \(error)")
            }
        }
        defer { fd.close() }
        do throws(Errno) {
            try fd.setTimeouts(milliseconds: deadline - Clock.monotonicMilliseconds())
            try fd.sendAll(request)
        } catch {
            return .failed(error == .wouldBlock ? timedOut : "connection lost: \(error)")
        }
        var parser = HTTPResponseParser(requestMethod: exchange.method, limits: answerLimits)
        defer { parser.wipe { Memory.wipe(&$0) } }  // the answer may hold tokens
        while true {
            let left = deadline - Clock.monotonicMilliseconds()
            guard left > 0 else { return .failed(timedOut) }
            var chunk: [UInt8]
            do throws(Errno) {
                try fd.setTimeouts(milliseconds: left)
                chunk = try fd.read(upTo: readChunkBytes)
            } catch {
                if error == .wouldBlock { return .failed(timedOut) }
                return .failed("connection lost: \(error)")
            }
            defer { Memory.wipe(&chunk) }
            do throws(HTTPResponseError) {
                if chunk.isEmpty { return outcome(try parser.finish()) }
                parser.append(chunk)
                if let response = try parser.next() { return outcome(response) }
            } catch {
                return .failed(failure(error))
            }
        }
    }

    /// Bytes asked of each `read`: a token endpoint's whole answer, usually.
    static let readChunkBytes = 16 * 1024
    /// The longest status line and headers of an answer: far beyond any token endpoint's
    /// (a few hundred bytes), as nothing here controls what a server sends.
    static let maximumAnswerHeadBytes = 64 * 1024

    /// The answer's limits: a body as long as any exchange may carry, a head of up to
    /// `maximumAnswerHeadBytes`.
    static var answerLimits: HTTPLimits {
        var limits = HTTPLimits()
        limits.maxHeadBytes = maximumAnswerHeadBytes
        limits.maxBodyBytes = HTTPExchange.maximumBodyBytes
        return limits
    }

    static func outcome(_ response: HTTPReceivedResponse) -> HTTPOutcome {
        .answered(status: response.status, body: response.body)
    }

    /// What an unreadable answer is called in the outcome.
    static func failure(_ error: HTTPResponseError) -> String {
        switch error.kind {
        case .truncated: return "a truncated HTTP answer: \(error.message)"
        case .tooLarge: return "an answer over the limits: \(error.message)"
        case .malformed: return "a malformed HTTP answer: \(error.message)"
        }
    }

    /// The outcome of `bytes` received and then the connection's end, as `send` reads them.
    static func parse(_ bytes: [UInt8], method: String) -> HTTPOutcome {
        var parser = HTTPResponseParser(requestMethod: method, limits: answerLimits)
        parser.append(bytes)
        do throws(HTTPResponseError) {
            if let response = try parser.next() { return outcome(response) }
            return outcome(try parser.finish())
        } catch {
            return .failed(failure(error))
        }
    }
}
