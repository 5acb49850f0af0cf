import AgentPOSIX
import Glibc

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
    /// Answers a client may leave unread before we stop reading its pipelined requests.
    public var maxPendingOutput = 1 << 20
    /// How long a connection closing after an error answer is drained (see
    /// `HTTPConnection.Phase.lingering`).
    public var lingerMilliseconds: Int64 = 2_000
    /// Serve only clients whose socket belongs to our uid (or root), as the agent's socket
    /// does with `SO_PEERCRED`.
    public var requireSameUser = true
    /// Where one-line log messages go (never with a secret in them).
    public var log: @Sendable (String) -> Void = { _ in }

    public init() {}
}

/// Answers one request; runs on the server's thread, so it must be quick. The bridge's
/// handlers make one short call to the agent each and never wait for a person.
public typealias HTTPHandler = (HTTPRequest, ConnectionInfo) -> HTTPResponse

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
    private let handler: HTTPHandler
    private let wake: (read: FileDescriptor, write: FileDescriptor)
    private var connections: [UInt64: HTTPConnection] = [:]
    private var nextConnectionID: UInt64 = 1
    private var stopping = false
    /// After `EMFILE` the listeners stay readable; accepting pauses briefly instead of
    /// spinning.
    private var acceptPausedUntil: Int64 = 0
    private var pollSet = PollSet()
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// Binds every address (non-blocking listeners, close-on-exec).
    /// - Throws: the first bind failure; nothing stays open then.
    public init(listening addresses: [SocketAddress], configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                handler: @escaping HTTPHandler) throws(Errno) {
        precondition(!addresses.isEmpty, "an HTTP server needs an address")
        self.configuration = configuration
        self.handler = handler
        var listeners: [FileDescriptor] = []
        var bound: [SocketAddress] = []
        do throws(Errno) {
            for address in addresses {
                let fd = try TCPSocket.listen(address, backlog: 511)
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
        var byte: UInt8 = 1
        _ = withUnsafeBytes(of: &byte) { try? wake.write.write($0) }
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
        for connection in connections.values { connection.fd.close() }
        connections.removeAll()
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
            var drain = [UInt8](repeating: 0, count: 64)
            _ = drain.withUnsafeMutableBytes { try? wake.read.read(into: $0) }
            stopping = true
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
        case .open: return connection.pendingOutput < configuration.maxPendingOutput
        case .closingAfterFlush: return false
        case .lingering: return true
        }
    }

    /// Milliseconds until the earliest connection deadline (or the end of an accept pause).
    private func pollTimeout(now: Int64) -> Int64 {
        var deadline = now + 60_000
        for connection in connections.values { deadline = min(deadline, nextDeadline(of: connection)) }
        if acceptPausedUntil > now { deadline = min(deadline, acceptPausedUntil) }
        return max(0, min(deadline - now, Int64(Int32.max)))
    }

    /// While we owe a connection output, the client's reading governs it (it must take
    /// some within the idle time); otherwise the deadline of its phase does.
    private func nextDeadline(of connection: HTTPConnection) -> Int64 {
        guard connection.pendingOutput > 0 else { return connection.deadline }
        let writeDeadline = connection.lastWriteProgress + configuration.idleTimeoutMilliseconds
        return connection.phase == .open ? writeDeadline : min(writeDeadline, connection.deadline)
    }

    /// Enforces the clocks: a request that took too long is answered 408 and closed, an
    /// idle connection is closed, a client that does not read our answers is dropped, a
    /// lingering close ends.
    private func sweep(now: Int64) {
        for connection in Array(connections.values) where now >= nextDeadline(of: connection) {
            if connection.phase == .open && connection.requestStarted && connection.pendingOutput == 0 {
                var response = HTTPResponse.error(408, .requestTimeout,
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
                configuration.log("accept failed: \(error); pausing for 100 ms")
                acceptPausedUntil = Clock.monotonicMilliseconds() + 100
                return
            }
            admit(fd, peer: peer)
        }
    }

    /// Checks the cap and the peer's uid before reading a byte.
    private func admit(_ fd: FileDescriptor, peer: SocketAddress) {
        let now = Clock.monotonicMilliseconds()
        guard connections.count < configuration.maxConnections else {
            let busy = HTTPResponse.error(503, .busy, "the bridge has \(configuration.maxConnections) connections open; try again")
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
                                              deadline: now + configuration.headerTimeoutMilliseconds, now: now)
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
        if count == 0 {
            // The client is done sending. What it sent was already answered; let the
            // answers go out, then close.
            if connection.pendingOutput > 0 && connection.phase == .open {
                connection.phase = .closingAfterFlush
                connection.deadline = now + configuration.lingerMilliseconds
            } else {
                close(connection)
            }
            return
        }
        if connection.phase == .lingering { return }  // dropped: we are closing
        if !connection.requestStarted {
            connection.requestStarted = true
            connection.deadline = now + configuration.headerTimeoutMilliseconds
        }
        connection.parser.append(readBuffer[0..<count])
        process(connection, now: now)
    }

    /// Answers the complete requests buffered on `connection`, in order.
    private func process(_ connection: HTTPConnection, now: Int64) {
        while connection.phase == .open && connection.pendingOutput < configuration.maxPendingOutput {
            let request: HTTPRequest
            do throws(HTTPParseError) {
                guard let next = try connection.parser.next() else { break }
                request = next
            } catch {
                configuration.log("bad request from \(connection.info.peer): \(error)")
                finish(connection, with: .parseError(error), version: .http11, now: now)
                return
            }
            let response = handler(request, connection.info)
            let keepAlive = request.keepAlive && !response.closesConnection && !stopping
            connection.enqueue(response.serialized(version: request.version, keepAlive: keepAlive,
                                                   omitBody: request.isHead, date: Clock.unixSeconds()))
            if !keepAlive {
                connection.phase = .closingAfterFlush
                connection.deadline = now + configuration.lingerMilliseconds
                break
            }
            // The next request's clock starts with its first byte; bytes already here
            // (pipelined) start it now.
            if connection.parser.hasPartialRequest {
                connection.requestStarted = true
                connection.deadline = now + configuration.headerTimeoutMilliseconds
            } else {
                connection.requestStarted = false
                connection.deadline = now + configuration.idleTimeoutMilliseconds
            }
        }
        if connection.phase == .open && connection.parser.takeContinueRequest() {
            connection.enqueue(HTTPResponse.continueLine)
        }
        send(connection, now: now)
    }

    /// Queues a last answer and closes after it.
    private func finish(_ connection: HTTPConnection, with response: HTTPResponse, version: HTTPVersion, now: Int64) {
        connection.enqueue(response.serialized(version: version, keepAlive: false, date: Clock.unixSeconds()))
        connection.phase = .closingAfterFlush
        connection.deadline = now + configuration.lingerMilliseconds
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
        connection.deadline = now + configuration.lingerMilliseconds
    }

    private func close(_ connection: HTTPConnection) {
        guard connections.removeValue(forKey: connection.info.id) != nil else { return }
        connection.fd.close()
    }
}
