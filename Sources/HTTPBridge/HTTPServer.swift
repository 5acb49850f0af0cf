import AgentPOSIX
import AgentProtocol
import Glibc
import HTTPCodec
import Synchronization

/// The server's limits and clocks, as named constants with the reason for each.
public struct HTTPServerConfiguration: Sendable {
    /// Time a request has, from its first byte (or from the connection's opening), to
    /// arrive whole, head and body: a client that trickles bytes (slowloris) is cut here.
    public var headerTimeoutMilliseconds: Int64 = 10_000
    /// Time a keep-alive connection may sit between requests, and a client may leave our
    /// output unread.
    public var idleTimeoutMilliseconds: Int64 = 30_000
    /// Open connections; one more is answered 503 and closed.
    public var maxConnections = 512
    public var limits = HTTPLimits()
    /// Answers a client may leave unread before we stop reading its pipelined requests,
    /// in bytes.
    public var maxPendingOutputBytes = POSIXLimits.maxPendingOutputBytes
    /// How long a connection closing after an error answer is drained (see
    /// `HTTPConnection.Phase.lingering`).
    public var lingerMilliseconds: Int64 = 2_000
    /// Serve only clients whose socket belongs to our uid (or root), as the agent's socket
    /// does with `SO_PEERCRED`.
    public var requireSameUser = true
    /// Connections the kernel queues before we accept them (nginx's default, 511).
    public static let listenBacklog: Int32 = 511
    /// How long accepting pauses after a failed accept (out of descriptors or memory).
    public static let acceptPauseMilliseconds: Int64 = 100
    /// Longest poll sleep when no connection has an earlier deadline.
    public static let maxPollMilliseconds: Int64 = 60_000
    /// Where one-line log messages go (never with a secret in them).
    public var log: @Sendable (String) -> Void = { _ in }
    /// Bytes of a streamed response the client may leave unread before the connection is
    /// dropped (and the stream cancelled): a client that stops reading cannot make us hold
    /// an upstream's whole answer.
    public var maxStreamBacklog = 8 << 20
    /// The body of the answers the server makes itself (a refused request, a time-out, too
    /// many connections): status, stable code, message. The bridge's JSON by default; a
    /// server speaking another API's dialect answers in it.
    public var errorResponse: @Sendable (Int, HTTPErrorCode, String) -> HTTPResponse = { HTTPResponse.error($0, $1, $2) }

    public init() {}
}

/// Answers one request; runs on the server's thread, so it must be quick. The bridge's
/// handlers make one short call to the agent each and never wait for a person.
public typealias HTTPHandler = (HTTPRequest, ConnectionInfo) -> HTTPResponse

/// What a streaming handler answers with: a response now, or a stream another thread
/// fills (the handler hands it over and returns at once).
public enum HTTPReply {
    case response(HTTPResponse)
    case stream(HTTPResponseStream)
}

/// Answers one request, now or later through a stream the server makes
/// (`HTTPServer.makeStream(for:)`); runs on the server's thread, so it must be quick.
public typealias HTTPStreamingHandler = (HTTPRequest, ConnectionInfo, HTTPServer) -> HTTPReply

/// A small HTTP/1.1 server: one thread running a `poll(2)` loop over loopback listeners,
/// a wake-up pipe and every connection, with non-blocking sockets and per-connection
/// buffers, as the agent's own loop. Requests on a connection are answered in order
/// (pipelining included); keep-alive follows RFC 9112.
///
/// `@unchecked Sendable`: everything but `stop()` runs on the thread that calls `run()`;
/// `stop()` only writes a byte to a pipe, which is safe from any thread.
public final class HTTPServer: @unchecked Sendable {
    public let configuration: HTTPServerConfiguration
    /// The addresses actually bound (with the ports chosen for port 0), in order.
    public let boundAddresses: [SocketAddress]
    private var listeners: [FileDescriptor]
    private let handler: HTTPStreamingHandler
    private let wake: (read: FileDescriptor, write: FileDescriptor)
    private var connections: [UInt64: HTTPConnection] = [:]
    private var nextConnectionID: UInt64 = 1
    private var stopping = false
    /// After `EMFILE` the listeners stay readable; accepting pauses briefly instead of
    /// spinning.
    private var acceptPausedUntil: Int64 = 0
    private var pollSet = PollSet()
    private var readBuffer = [UInt8](repeating: 0, count: POSIXLimits.readChunkBytes)
    /// Connections whose stream has news for the loop, filled from producer threads.
    private let signalledStreams = Mutex<[UInt64]>([])

    /// Binds every address (non-blocking listeners, close-on-exec).
    /// - Throws: the first bind failure; nothing stays open then.
    public convenience init(listening addresses: [SocketAddress],
                            configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                            handler: @escaping HTTPHandler) throws(Errno) {
        try self.init(listening: addresses, configuration: configuration,
                      streamingHandler: { request, info, _ in .response(handler(request, info)) })
    }

    /// Binds every address, for a handler that may answer later through a stream.
    /// - Throws: the first bind failure; nothing stays open then.
    public init(listening addresses: [SocketAddress], configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                streamingHandler handler: @escaping HTTPStreamingHandler) throws(Errno) {
        precondition(!addresses.isEmpty, "an HTTP server needs an address")
        self.configuration = configuration
        self.handler = handler
        var listeners: [FileDescriptor] = []
        var bound: [SocketAddress] = []
        do throws(Errno) {
            for address in addresses {
                let fd = try TCPSocket.listen(address, backlog: HTTPServerConfiguration.listenBacklog)
                listeners.append(fd)
                bound.append(try TCPSocket.localAddress(of: fd))
            }
            wake = try FileDescriptor.pipe(nonBlocking: true)
        } catch {
            for fd in listeners { fd.close() }
            throw error
        }
        self.listeners = listeners
        self.boundAddresses = bound
    }

    deinit {
        for fd in listeners { fd.close() }
        for connection in connections.values { connection.fd.close() }
        wake.read.close()
        wake.write.close()
    }

    /// Asks `run()` to return: from any thread, or from a handler.
    public func stop() {
        wakeLoop(Self.stopByte)
    }

    /// The wake-up byte `stop()` writes: the loop ends.
    private static let stopByte: UInt8 = 1
    /// The wake-up byte a streamed response writes when it has bytes for its client.
    private static let streamByte: UInt8 = 2

    private func wakeLoop(_ byte: UInt8) {
        var byte = byte
        // A full pipe already holds a wake-up; losing this byte loses nothing.
        _ = withUnsafeBytes(of: &byte) { try? wake.write.write($0) }
    }

    /// A stream for answering the request a streaming handler is running for on
    /// `connection`; the handler returns it as `.stream` and a producer fills it.
    public func makeStream(for connection: ConnectionInfo) -> HTTPResponseStream {
        let id = connection.id
        return HTTPResponseStream { [weak self] in
            guard let self else { return }
            self.signalledStreams.withLock { $0.append(id) }
            self.wakeLoop(Self.streamByte)
        }
    }

    /// Open connections (for handlers and tests; read it on the loop's thread).
    public var connectionCount: Int { connections.count }

    /// Serves until `stop()` or, when `signals` is given, until one of its signals
    /// arrives; then closes every connection and listener.
    public func run(signals: SignalDescriptor? = nil) throws(Errno) {
        defer { shutDown() }
        while !stopping {
            try runOnce(signals: signals)
        }
    }

    private func shutDown() {
        for fd in listeners { fd.close() }
        listeners.removeAll()
        for connection in Array(connections.values) { close(connection) }
    }

    // MARK: The loop

    private func runOnce(signals: SignalDescriptor?) throws(Errno) {
        let now = Clock.monotonicMilliseconds()
        sweep(now: now)
        pollSet.removeAll()
        let accepting = now >= acceptPausedUntil
        if accepting { for listener in listeners { pollSet.add(listener, .readable) } }
        pollSet.add(wake.read, .readable)
        if let signals { pollSet.add(signals.fd, .readable) }
        let fixed = pollSet.count
        var order: [HTTPConnection] = []
        order.reserveCapacity(connections.count)
        for connection in connections.values {
            var events: PollEvents = []
            if wantsInput(connection) { events.insert(.readable) }
            if connection.pendingOutput > 0 { events.insert(.writable) }
            pollSet.add(connection.fd, events)
            order.append(connection)
        }
        _ = try pollSet.wait(timeoutMilliseconds: Int32(pollTimeout(now: now)))
        var index = 0
        if accepting {
            for (offset, listener) in listeners.enumerated() where !pollSet.returnedEvents(at: offset).isEmpty {
                acceptConnections(on: listener)
            }
            index += listeners.count
        }
        if !pollSet.returnedEvents(at: index).isEmpty {
            var drain = [UInt8](repeating: 0, count: POSIXLimits.wakeDrainBytes)
            let count = drain.withUnsafeMutableBytes { (try? wake.read.read(into: $0)) ?? 0 }
            if drain[0..<count].contains(Self.stopByte) { stopping = true }
            pumpSignalledStreams(now: now)
        }
        index += 1
        if let signals, !pollSet.returnedEvents(at: index).isEmpty {
            while let signal = signals.next() {
                configuration.log("received signal \(signal), shutting down")
                stopping = true
            }
        }
        let later = Clock.monotonicMilliseconds()
        for (offset, connection) in order.enumerated() {
            let events = pollSet.returnedEvents(at: fixed + offset)
            guard !events.isEmpty, connections[connection.info.id] != nil else { continue }
            service(connection, events, now: later)
        }
    }

    private func wantsInput(_ connection: HTTPConnection) -> Bool {
        switch connection.phase {
        // While a stream answers, reading goes on so that a client hanging up is seen at
        // once (and its upstream cancelled); pipelined bytes wait in the parser.
        case .open where connection.stream != nil: return true
        case .open: return connection.pendingOutput < configuration.maxPendingOutputBytes
        case .closingAfterFlush: return false
        case .lingering: return true
        }
    }

    /// Milliseconds until the earliest connection deadline (or the end of an accept pause).
    private func pollTimeout(now: Int64) -> Int64 {
        var deadline = now.saturatingAdding(HTTPServerConfiguration.maxPollMilliseconds)
        for connection in connections.values { deadline = min(deadline, nextDeadline(of: connection)) }
        if acceptPausedUntil > now { deadline = min(deadline, acceptPausedUntil) }
        return max(0, min(deadline.saturatingSubtracting(now), Int64(Int32.max)))
    }

    /// While we owe a connection output, the client's reading governs it (it must take
    /// some within the idle time); otherwise the deadline of its phase does.
    private func nextDeadline(of connection: HTTPConnection) -> Int64 {
        guard connection.pendingOutput > 0 else { return connection.deadline }
        let writeDeadline = connection.lastWriteProgress.saturatingAdding(configuration.idleTimeoutMilliseconds)
        return connection.phase == .open ? writeDeadline : min(writeDeadline, connection.deadline)
    }

    /// Enforces the clocks: a request that took too long is answered 408 and closed, an
    /// idle connection is closed, a client that does not read our answers is dropped, a
    /// lingering close ends.
    private func sweep(now: Int64) {
        for connection in Array(connections.values) where now >= nextDeadline(of: connection) {
            if connection.phase == .open && connection.requestStarted && connection.pendingOutput == 0 && connection.stream == nil {
                var response = configuration.errorResponse(408, .requestTimeout,
                                                           "the request did not arrive within \(configuration.headerTimeoutMilliseconds) ms")
                response.closesConnection = true
                finish(connection, with: response, version: .http11, now: now)
            } else {
                close(connection)
            }
        }
    }

    // MARK: Accepting

    private func acceptConnections(on listener: FileDescriptor) {
        while true {
            let fd: FileDescriptor
            let peer: SocketAddress
            do throws(Errno) {
                guard let accepted = try TCPSocket.accept(listener) else { return }
                (fd, peer) = accepted
            } catch {
                // Out of descriptors (EMFILE, ENFILE) or memory: the listener stays
                // readable, so pause instead of spinning; pending clients wait in the backlog.
                configuration.log("accept failed: \(error); pausing for \(HTTPServerConfiguration.acceptPauseMilliseconds) ms")
                acceptPausedUntil = Clock.monotonicMilliseconds().saturatingAdding(HTTPServerConfiguration.acceptPauseMilliseconds)
                return
            }
            admit(fd, peer: peer)
        }
    }

    /// Checks the cap and the peer's uid before reading a byte.
    private func admit(_ fd: FileDescriptor, peer: SocketAddress) {
        let now = Clock.monotonicMilliseconds()
        guard connections.count < configuration.maxConnections else {
            let busy = configuration.errorResponse(503, .busy, "the server has \(configuration.maxConnections) connections open; try again")
            _ = try? fd.send(busy.serialized(version: .http11, keepAlive: false, date: Clock.unixSeconds()), from: 0)
            fd.close()
            return
        }
        let local: SocketAddress
        do throws(Errno) {
            local = try TCPSocket.localAddress(of: fd)
        } catch {
            fd.close()
            return
        }
        var uid: UInt32?
        if configuration.requireSameUser {
            let ours = ProcessControl.effectiveUID
            do throws(PeerUIDError) {
                let owner = try PeerUID.owner(ofPeer: peer, connectedTo: local)
                guard owner == ours || owner == 0 else {
                    configuration.log("refused a connection from \(peer): uid \(owner), not uid \(ours)")
                    fd.close()
                    return
                }
                uid = owner
            } catch {
                configuration.log("refused a connection from \(peer): \(error)")
                fd.close()
                return
            }
        }
        let info = ConnectionInfo(id: nextConnectionID, peer: peer, local: local, peerUID: uid)
        nextConnectionID += 1
        connections[info.id] = HTTPConnection(info: info, fd: fd, limits: configuration.limits,
                                              deadline: now.saturatingAdding(configuration.headerTimeoutMilliseconds), now: now)
    }

    // MARK: Serving a connection

    private func service(_ connection: HTTPConnection, _ events: PollEvents, now: Int64) {
        if events.contains(.writable) || events.contains(.error) {
            guard connection.flush(now: now) else { return close(connection) }
            afterFlush(connection, now: now)
            guard connections[connection.info.id] != nil else { return }
            // Output drained below the limit: serve requests it held back.
            if connection.phase == .open && connection.parser.bufferedByteCount > 0 { process(connection, now: now) }
        }
        if events.contains(.readable) || events.contains(.hangUp) {
            guard connections[connection.info.id] != nil, wantsInput(connection) else {
                if events.contains(.hangUp) && connection.pendingOutput == 0 { close(connection) }
                return
            }
            read(from: connection, now: now)
        }
    }

    private func read(from connection: HTTPConnection, now: Int64) {
        let count: Int
        switch connection.fd.readAvailable(into: &readBuffer) {
        case .bytes(let n): count = n
        case .wouldBlock: return
        case .failed: return close(connection)
        case .endOfFile: count = 0
        }
        if count == 0 && connection.stream != nil {
            // Gone while its answer streams (HTTP clients do not half-close): stop the
            // producer's upstream work now rather than at the first failed write.
            return close(connection)
        }
        if count == 0 {
            // The client is done sending. What it sent was already answered; let the
            // answers go out, then close.
            if connection.pendingOutput > 0 && connection.phase == .open {
                connection.phase = .closingAfterFlush
                connection.deadline = now.saturatingAdding(configuration.lingerMilliseconds)
            } else {
                close(connection)
            }
            return
        }
        if connection.phase == .lingering { return }  // dropped: we are closing
        if connection.stream != nil {
            // Pipelined behind a streamed answer: kept, within one request's worth.
            connection.parser.append(readBuffer[0..<count])
            if connection.parser.bufferedByteCount - configuration.limits.maxHeadBytes > configuration.limits.maxBodyBytes {
                close(connection)
            }
            return
        }
        if !connection.requestStarted {
            connection.requestStarted = true
            connection.deadline = now.saturatingAdding(configuration.headerTimeoutMilliseconds)
        }
        connection.parser.append(readBuffer[0..<count])
        process(connection, now: now)
    }

    /// Answers the complete requests buffered on `connection`, in order.
    private func process(_ connection: HTTPConnection, now: Int64) {
        requests: while connection.phase == .open && connection.stream == nil
                            && connection.pendingOutput < configuration.maxPendingOutputBytes {
            let request: HTTPRequest
            do throws(HTTPParseError) {
                guard let next = try connection.parser.next() else { break }
                request = next
            } catch {
                configuration.log("bad request from \(connection.info.peer): \(error)")
                var refusal = configuration.errorResponse(error.status, error.code, error.message)
                refusal.closesConnection = true
                finish(connection, with: refusal, version: .http11, now: now)
                return
            }
            switch handler(request, connection.info, self) {
            case .response(let response):
                let keepAlive = request.keepAlive && !response.closesConnection && !stopping
                connection.enqueue(response.serialized(version: request.version, keepAlive: keepAlive,
                                                       omitBody: request.isHead, date: Clock.unixSeconds()))
                guard keepAlive else {
                    connection.phase = .closingAfterFlush
                    connection.deadline = now.saturatingAdding(configuration.lingerMilliseconds)
                    break requests
                }
                awaitNextRequest(connection, now: now)
            case .stream(let stream):
                // No clock but the client's reading runs while the producer works: how
                // long an upstream may take is the producer's to bound.
                connection.stream = stream
                connection.streamRequest = (request.version, request.keepAlive, request.isHead)
                connection.streamHeadSent = false
                connection.deadline = Int64.max
                pump(connection, now: now)
                return
            }
        }
        if connection.phase == .open && connection.stream == nil && connection.parser.takeContinueRequest() {
            connection.enqueue(HTTPResponse.continueLine)
        }
        send(connection, now: now)
    }

    /// The next request's clock starts with its first byte; bytes already here (pipelined)
    /// start it now.
    private func awaitNextRequest(_ connection: HTTPConnection, now: Int64) {
        if connection.parser.hasPartialRequest {
            connection.requestStarted = true
            connection.deadline = now.saturatingAdding(configuration.headerTimeoutMilliseconds)
        } else {
            connection.requestStarted = false
            connection.deadline = now.saturatingAdding(configuration.idleTimeoutMilliseconds)
        }
    }

    // MARK: Streams

    private func pumpSignalledStreams(now: Int64) {
        let ids = signalledStreams.withLock { ids -> [UInt64] in
            defer { ids.removeAll(keepingCapacity: true) }
            return ids
        }
        for id in ids {
            guard let connection = connections[id], connection.stream != nil else { continue }
            pump(connection, now: now)
        }
    }

    /// Moves what the producer made into the connection's output, framed; at the end,
    /// serves the requests that waited behind it.
    private func pump(_ connection: HTTPConnection, now: Int64) {
        guard let stream = connection.stream, let request = connection.streamRequest else { return }
        let taken = stream.take()
        let chunked = request.version == .http11
        if let whole = taken.whole, !connection.streamHeadSent {
            let keepAlive = request.keepAlive && !whole.closesConnection && !stopping
            connection.enqueue(whole.serialized(version: request.version, keepAlive: keepAlive, omitBody: request.isHead,
                                                date: Clock.unixSeconds()))
            return endStream(connection, keepAlive: keepAlive, now: now)
        }
        if let head = taken.head, !connection.streamHeadSent {
            connection.streamHeadSent = true
            connection.streamKeepAlive = request.keepAlive && chunked && !stopping
            connection.enqueue(head.serializedHead(version: request.version, keepAlive: connection.streamKeepAlive,
                                                   framing: chunked ? .chunked : .untilClose, date: Clock.unixSeconds()))
            connection.streamHasBody = !request.isHead && !HTTPStatus.hasNoBody(head.status)
        }
        if taken.aborted {
            // Cut short: closing without the last chunk tells the client the body is incomplete.
            send(connection, now: now)
            return close(connection)
        }
        if connection.streamHeadSent && connection.streamHasBody && !taken.body.isEmpty {
            connection.enqueue(chunked ? HTTPResponse.chunk(taken.body) : taken.body)
        }
        if taken.finished && connection.streamHeadSent {
            if connection.streamHasBody && chunked { connection.enqueue(HTTPResponse.chunk([])) }
            return endStream(connection, keepAlive: connection.streamKeepAlive, now: now)
        }
        guard connection.pendingOutput <= configuration.maxStreamBacklog else {
            configuration.log("dropped a client that left \(connection.pendingOutput) bytes of a stream unread")
            return close(connection)
        }
        send(connection, now: now)
    }

    private func endStream(_ connection: HTTPConnection, keepAlive: Bool, now: Int64) {
        connection.stream = nil
        connection.streamRequest = nil
        if keepAlive {
            awaitNextRequest(connection, now: now)
            process(connection, now: now)
        } else {
            connection.phase = .closingAfterFlush
            connection.deadline = now.saturatingAdding(configuration.lingerMilliseconds)
            send(connection, now: now)
        }
    }

    /// Queues a last answer and closes after it.
    private func finish(_ connection: HTTPConnection, with response: HTTPResponse, version: HTTPVersion, now: Int64) {
        connection.enqueue(response.serialized(version: version, keepAlive: false, date: Clock.unixSeconds()))
        connection.phase = .closingAfterFlush
        connection.deadline = now.saturatingAdding(configuration.lingerMilliseconds)
        send(connection, now: now)
    }

    private func send(_ connection: HTTPConnection, now: Int64) {
        guard connection.flush(now: now) else { return close(connection) }
        afterFlush(connection, now: now)
    }

    /// Once a closing connection's last answer is out: shut down writing and linger.
    private func afterFlush(_ connection: HTTPConnection, now: Int64) {
        guard connection.phase == .closingAfterFlush, connection.pendingOutput == 0 else { return }
        do throws(Errno) {
            try connection.fd.shutdown(.write)
        } catch {
            return close(connection)
        }
        connection.phase = .lingering
        connection.deadline = now.saturatingAdding(configuration.lingerMilliseconds)
    }

    private func close(_ connection: HTTPConnection) {
        guard connections.removeValue(forKey: connection.info.id) != nil else { return }
        connection.fd.close()
        if let stream = connection.stream {
            connection.stream = nil
            stream.cancel()
        }
    }
}
