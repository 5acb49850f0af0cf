import AgentPOSIX
import AgentProtocol
import AgentTransport
import Glibc
import OAuth

/// The agent: one thread owns all state and runs a `poll(2)` loop over the listening
/// socket, the signal descriptor and every client connection (as ssh-agent.c does).
public final class Agent {
    let configuration: AgentConfiguration
    var store: TokenStore
    var lock = LockState()
    var connections: [UInt64: Connection] = [:]
    var nextConnectionID: UInt64 = 1
    var listener: FileDescriptor?
    var signals: SignalDescriptor?
    var createdDirectory: String?
    let startedAt: Int64
    /// Wall-clock and monotonic time (`AgentConfiguration.clock`).
    let clock: any AgentClock
    /// When a held token counts as expired (`AgentConfiguration.expirySkewSeconds`).
    let expiry: ExpiryRule
    var stopping = false
    /// Answers held back until a moment (the delay after a failed unlock).
    var delayedAnswers: [DelayedAnswer] = []
    /// OAuth providers, and a token endpoint client for each.
    let settings: AgentSettings
    let endpoints: [String: TokenEndpointClient]
    /// How HTTP exchanges are made (`AgentConfiguration.transport`); by default plain HTTP
    /// with this machine (the control browser, a local provider) in process, anything else
    /// in a short-lived `claude-agent-fetch` each, so that the agent links no TLS code.
    let transport: any HTTPTransport
    let helper: HelperTransport
    /// Slow work (HTTPS) runs here and reports back through a pipe the loop polls.
    let worker: Worker
    /// Accounts with a refresh in flight, and the clients waiting for it.
    var refreshWaiters: [UInt32: [TokenWaiter]] = [:]
    /// How many refreshes were started (for `status`).
    var refreshesStarted = 0
    /// Logins and authorizations started, by their state.
    var pendingLogins: [String: PendingLogin] = [:]
    /// Token requests waiting for approval, and who waits on them.
    var approvals = ApprovalBook()
    var approvalWaiters: [String: [ApprovalWaiter]] = [:]
    /// Live requests created over the socket (not relayed for an HTTP client), by the pid
    /// of the process that made them: its waits hold the request (see `ApprovalWaiter.holds`).
    var socketApprovalCreators: [String: Int32] = [:]
    /// The listening socket's device and inode, and when to check it is still there
    /// (monotonic milliseconds); see `checkSocket`.
    var socketIdentity: (device: UInt64, inode: UInt64)?
    var nextSocketCheck: Int64?
    /// The socket path was removed or taken by another agent: it is not ours to remove.
    var socketLost = false
    /// No client waiting for a refresh has a deadline (`timeout_ms`) before this
    /// (monotonic milliseconds); nil: none has one. May be early, never late.
    var nextRefreshWaiterDeadline: Int64?
    /// Requests whose selected account is being refreshed, by account.
    var refreshApprovals: [UInt32: [String]] = [:]
    private var pollSet = PollSet()
    /// No connection can have been idle too long before this (monotonic ms): the idle scan
    /// runs only then, so a busy loop does not walk every connection on every turn.
    private var nextIdleCheck: Int64 = 0
    /// The refresh-ahead scan walks every account: at most once a second.
    private var nextRefreshAheadCheck: Int64 = 0
    /// The refresh-token expiry warning walks every account: at most once a minute.
    private var nextRefreshExpiryCheck: Int64 = 0
    /// Open connections allowed: `Limits.maxConnections`, or fewer under a low open-file limit.
    private var connectionCap = Limits.maxConnections
    /// Bytes buffered across all connections (`Limits.maxBufferedBytes`): counted afresh on
    /// every turn of the loop and kept up to date as connections read, answer and close.
    private var bufferedBytes = 0
    /// Our uid, read once: every connection is checked against it.
    private let ourUID = ProcessControl.effectiveUID
    private var readBuffer = [UInt8](repeating: 0, count: Limits.readChunkBytes)

    struct DelayedAnswer {
        let connectionID: UInt64
        let due: Int64
        let response: JSONValue
    }

    public init(configuration: AgentConfiguration) throws {
        self.configuration = configuration
        settings = configuration.settings
        clock = configuration.clock
        expiry = ExpiryRule(skewSeconds: configuration.expirySkewSeconds)
        store = TokenStore(refreshAheadUnder: configuration.refreshAhead ? expiry : nil)
        startedAt = clock.unixSeconds()
        helper = HelperTransport(path: configuration.fetchHelperPath)
        transport = configuration.transport ?? LoopbackTransport(remote: helper)
        var endpoints: [String: TokenEndpointClient] = [:]
        for (name, provider) in settings.providers {
            endpoints[name] = TokenEndpointClient(provider: provider, transport: transport,
                                                  timeoutMilliseconds: settings.refreshTimeoutSeconds.saturatingMultiplied(by: 1000))
        }
        self.endpoints = endpoints
        worker = try Worker()
    }

    // MARK: Start and stop

    /// Prepares the process and the socket. After this returns, clients can connect.
    public func start() throws {
        Signals.unblockAll()
        Signals.ignoreBrokenPipe()
        try ProcessControl.hardenAgainstMemoryDisclosure()
        // Frame buffers past this size are freed back to the system, so the memory the
        // agent holds follows what it buffers now (`Limits.maxBufferedBytes`), not its peak.
        Memory.returnLargeBuffersToTheSystem(atLeast: Limits.readChunkBytes)
        // Room for every connection the agent accepts, plus its own few descriptors. Under
        // a lower hard limit the cap comes down with it, so a client past it is answered
        // `busy` rather than left in the backlog by an accept failing with EMFILE.
        let descriptors = ProcessControl.raiseOpenFileLimit(to: Limits.maxConnections + Limits.reservedDescriptors) ?? Int.max
        connectionCap = max(1, min(Limits.maxConnections, descriptors - Limits.reservedDescriptors))
        if connectionCap < Limits.maxConnections {
            Log.info("\(descriptors) open files allowed: at most \(connectionCap) connections")
        }
        signals = try SignalDescriptor([SIGTERM, SIGINT, SIGHUP])
        if let inherited = configuration.inheritedListener {
            try inherited.fd.setNonBlocking()
            listener = inherited.fd
            Log.info("listening on \(inherited.path) (passed by the service manager)")
        } else {
            if configuration.managesDirectory {
                createdDirectory = try SocketDirectory.prepare(FileSystem.directoryName(configuration.socketPath))
            }
            try SocketDirectory.clearStaleSocket(at: configuration.socketPath)
            listener = try UnixSocket.listen(path: configuration.socketPath)
            // Only a socket we made is watched: a passed one is the service manager's.
            watchSocket()
            Log.info("listening on \(configuration.socketPath)")
        }
        if helper.path == nil && HelperTransport.locate() == nil {
            // Not fatal: tokens added by hand still work, and the helper may be installed later.
            Log.info("\(HelperTransport.executableName) was found neither beside claude-agentd nor on PATH: "
                     + "refreshes, logins and revocations will fail until it is")
        }
        for source in configuration.imports {
            do throws(AgentError) {
                _ = try importCredentials(path: source.path, account: source.account, accountID: nil,
                                          provider: settings.defaultProvider, persist: source.persist)
            } catch {
                Log.info("not imported: \(error.message)")
            }
        }
        notifyServiceManager("READY=1\nMAINPID=\(ProcessControl.currentPID)")
    }

    /// Runs until a termination signal or `agent.stop`; then removes the socket.
    public func run() throws {
        while !stopping {
            try runOnce()
        }
        shutDown()
    }

    /// Removes the socket (and the directory, if we made it and it is empty) and closes
    /// every connection. Called once, at exit.
    func shutDown() {
        notifyServiceManager("STOPPING=1")
        removeSocket()
        for connection in connections.values { connection.fd.close() }
        connections.removeAll()
        Log.info("stopped")
    }

    func removeSocket() {
        guard let listener else { return }
        listener.close()
        self.listener = nil
        nextSocketCheck = nil
        // A socket the service manager passed is its to keep: the next activation uses it.
        guard configuration.inheritedListener == nil else { return }
        if !socketLost { try? FileSystem.removeFile(configuration.socketPath) }
        if let createdDirectory { try? FileSystem.removeDirectory(createdDirectory) }
    }

    // MARK: The loop

    /// One turn of the loop: wait for readiness or the next deadline (at most
    /// `maxWaitMilliseconds`: a test driving the loop under a clock it advances by hand
    /// passes a short wait), then serve.
    func runOnce(maxWaitMilliseconds: Int64 = .max) throws {
        let now = clock.monotonicMilliseconds()
        sweep(now: now)
        pollSet.removeAll()
        if let listener { pollSet.add(listener, .readable) }
        if let signals { pollSet.add(signals.fd, .readable) }
        pollSet.add(worker.wake, .readable)
        let fixed = pollSet.count
        var order: [Connection] = []
        order.reserveCapacity(connections.count)
        bufferedBytes = 0
        for connection in connections.values {
            connection.accountedBytes = connection.bufferedBytes
            bufferedBytes += connection.accountedBytes
        }
        shedIfOverBudget()
        // Near the budget, only connections holding nothing are read (a new client's small
        // request); one holding part of a frame or unread answers waits.
        let roomToRead = bufferedBytes + Limits.readChunkBytes <= Limits.maxBufferedBytes
        for connection in connections.values {
            var events: PollEvents = []
            if connection.wantsInput && (roomToRead || connection.holdsNothing) { events.insert(.readable) }
            if connection.pendingOutput > 0 { events.insert(.writable) }
            pollSet.add(connection.fd, events)
            order.append(connection)
        }
        _ = try pollSet.wait(timeoutMilliseconds: Int32(min(pollTimeout(now: now), maxWaitMilliseconds)))
        var index = 0
        if listener != nil {
            if !pollSet.returnedEvents(at: index).isEmpty { acceptConnections() }
            index += 1
        }
        if signals != nil {
            if !pollSet.returnedEvents(at: index).isEmpty { readSignals() }
            index += 1
        }
        if !pollSet.returnedEvents(at: index).isEmpty { drainWorker() }
        for (offset, connection) in order.enumerated() {
            let events = pollSet.returnedEvents(at: fixed + offset)
            guard !events.isEmpty, connections[connection.id] != nil else { continue }
            service(connection, events)
        }
    }

    /// Milliseconds until the next thing the clock must do: an idle time-out, a delayed
    /// answer, a lifetime running out.
    func pollTimeout(now: Int64) -> Int64 {
        var deadline = min(now + Limits.maxPollMilliseconds, nextIdleCheck)
        for answer in delayedAnswers { deadline = min(deadline, answer.due) }
        if let next = approvals.nextDeadline { deadline = min(deadline, next) }
        for waiters in approvalWaiters.values { for waiter in waiters { deadline = min(deadline, waiter.deadline) } }
        if let next = nextRefreshWaiterDeadline { deadline = min(deadline, next) }
        if let next = nextSocketCheck { deadline = min(deadline, next) }
        return max(0, deadline - now)
    }

    /// Clock-driven work: forget tokens whose lifetime ran out, release delayed answers,
    /// close idle connections.
    func sweep(now: Int64) {
        let wallClock = clock.unixSeconds()
        for account in store.removeExpiredLifetimes(now: wallClock) {
            Log.info("forgot account \(account.name) (#\(account.id)): lifetime over")
        }
        if now >= nextRefreshExpiryCheck {
            warnOfRefreshExpiry(now: wallClock)
            nextRefreshExpiryCheck = now + Limits.refreshExpiryCheckMilliseconds
        }
        if configuration.refreshAhead && now >= nextRefreshAheadCheck {
            refreshAheadIfDue(now: wallClock)
            nextRefreshAheadCheck = now + Limits.refreshAheadCheckMilliseconds
        }
        sweepApprovals(monotonic: now)
        expireRefreshWaiters(monotonic: now)
        checkSocket(monotonic: now)
        if !delayedAnswers.isEmpty {
            let due = delayedAnswers.filter { $0.due <= now }
            delayedAnswers.removeAll { $0.due <= now }
            for answer in due {
                guard let connection = connections[answer.connectionID] else { continue }
                answerDeferred(connection, answer.response)
            }
        }
        if now >= nextIdleCheck { closeIdleConnections(now: now) }
    }

    /// Closes connections idle past the time-out, and notes when the next one could be
    /// (at most a poll's length away, for connections that were busy and are not now).
    private func closeIdleConnections(now: Int64) {
        var next = now + Limits.maxPollMilliseconds
        for connection in connections.values where connection.awaitingRPCID == nil {
            let due = connection.lastActivity + configuration.idleTimeoutMilliseconds
            if due <= now {
                Log.info("closing idle connection from pid \(connection.peer.pid)")
                close(connection)
            } else {
                next = min(next, due)
            }
        }
        nextIdleCheck = next
    }

    func acceptConnections() {
        guard let listener else { return }
        while true {
            let fd: FileDescriptor
            do throws(Errno) {
                guard let accepted = try UnixSocket.accept(listener) else { return }
                fd = accepted
            } catch {
                Log.info("accept failed: \(error)")
                return
            }
            admit(fd)
        }
    }

    /// Checks the peer before reading a byte: only our own uid (or root) may talk to us.
    func admit(_ fd: FileDescriptor) {
        let peer: PeerCredentials
        do throws(Errno) {
            peer = try UnixSocket.peerCredentials(of: fd)
        } catch {
            Log.info("refused a connection: \(error)")
            fd.close()
            return
        }
        guard peer.uid == ourUID || peer.uid == 0 else {
            Log.info("refused a connection from uid \(peer.uid) (pid \(peer.pid)): not uid \(ourUID)")
            fd.close()
            return
        }
        if configuration.refusesForwarded, let forwarder = Forwarding.forwarder(pid: peer.pid) {
            Log.info("refused a connection through \(forwarder.description) (pid \(peer.pid)): --no-forward")
            let answer = Frame.encode(Response.failure(rpcID: 0, AgentError(
                .denied, "this agent refuses connections forwarded through \(forwarder.via) (started with --no-forward)")))
            _ = try? fd.send(answer, from: 0)
            fd.close()
            return
        }
        guard connections.count < connectionCap else {
            Log.info("refused a connection from pid \(peer.pid): \(connectionCap) connections open")
            let answer = Frame.encode(Response.failure(rpcID: 0, AgentError(.busy, "the agent has \(connectionCap) connections open; try again")))
            _ = try? fd.send(answer, from: 0)
            fd.close()
            return
        }
        let connection = Connection(id: nextConnectionID, fd: fd, peer: peer, now: clock.monotonicMilliseconds())
        nextIdleCheck = min(nextIdleCheck, connection.lastActivity + configuration.idleTimeoutMilliseconds)
        nextConnectionID += 1
        connections[connection.id] = connection
    }

    func readSignals() {
        while let signal = signals?.next() {
            Log.info("received signal \(signal), shutting down")
            stopping = true
        }
    }

    func service(_ connection: Connection, _ events: PollEvents) {
        defer {
            recount(connection)
            shedIfOverBudget()
        }
        if events.contains(.writable) || events.contains(.error) || events.contains(.hangUp) {
            guard connection.flush() else { return close(connection) }
            if connection.closeAfterFlush && connection.pendingOutput == 0 { return close(connection) }
            // Output drained below the limit: serve requests that were held back by it.
            if connection.wantsInput && connection.decoder.bufferedByteCount > 0 {
                processBufferedRequests(connection)
            }
        }
        if events.contains(.readable) {
            readRequests(from: connection)
        } else if events.contains(.hangUp) || events.contains(.error) {
            // The client is gone (it may have been waiting for an answer): drop it, so its
            // waits end and a request only it waited for is cancelled.
            close(connection)
        }
    }

    func readRequests(from connection: Connection) {
        guard connection.wantsInput else { return }
        let count: Int
        switch connection.fd.readAvailable(into: &readBuffer) {
        case .bytes(let n):
            count = n
        case .wouldBlock:
            return
        case .failed:
            return close(connection)
        case .endOfFile:
            if connection.decoder.hasPartialFrame {
                Log.info("connection from pid \(connection.peer.pid) closed inside a frame")
            }
            _ = connection.flush()
            return close(connection)
        }
        connection.lastActivity = clock.monotonicMilliseconds()
        readBuffer.withUnsafeBytes { raw in
            connection.decoder.append(UnsafeRawBufferPointer(rebasing: raw[0..<count]))
        }
        processBufferedRequests(connection)
    }

    /// Answers the complete requests buffered on `connection`, in order, stopping when one
    /// must wait for slow work.
    func processBufferedRequests(_ connection: Connection) {
        while connection.wantsInput {
            let payload: [UInt8]
            do throws(FrameError) {
                guard let next = try connection.decoder.next() else { break }
                payload = next
            } catch {
                Log.info("closing connection from pid \(connection.peer.pid): \(error)")
                return close(connection)
            }
            switch Request.decode(payload) {
            case .failure(let failure):
                connection.enqueue(Response.failure(rpcID: failure.rpcID, failure.error))
            case .success(let request):
                dispatch(request, on: connection)
            }
        }
        send(connection)
    }

    /// Flushes what the socket takes now; the rest goes when poll says it is writable.
    func send(_ connection: Connection) {
        guard connection.flush() else { return close(connection) }
        if connection.closeAfterFlush && connection.pendingOutput == 0 { close(connection) }
    }

    /// Delivers the answer a connection was waiting for, then serves the requests it
    /// pipelined behind it.
    func answerDeferred(_ connection: Connection, _ response: JSONValue) {
        connection.awaitingRPCID = nil
        connection.lastActivity = clock.monotonicMilliseconds()
        connection.enqueue(response)
        processBufferedRequests(connection)
        recount(connection)
    }

    /// Brings the buffered total up to date with what `connection` holds now.
    func recount(_ connection: Connection) {
        guard connections[connection.id] != nil else { return }
        let now = connection.bufferedBytes
        bufferedBytes += now - connection.accountedBytes
        connection.accountedBytes = now
    }

    /// Past `Limits.maxBufferedBytes`, closes the connections holding the most until the
    /// total is back under it: whoever holds the most is the likeliest to be hostile, and
    /// a connection holding nothing (a new client, an idle one) is never the one closed.
    func shedIfOverBudget() {
        while bufferedBytes > Limits.maxBufferedBytes {
            guard let largest = connections.values.lazy.filter({ !$0.holdsNothing })
                .max(by: { $0.accountedBytes < $1.accountedBytes })
            else { return }
            Log.info("closing connection from pid \(largest.peer.pid): \(largest.accountedBytes) bytes buffered, "
                     + "\(bufferedBytes) across all connections (limit \(Limits.maxBufferedBytes))")
            close(largest)
        }
    }

    func close(_ connection: Connection) {
        guard connections.removeValue(forKey: connection.id) != nil else { return }
        bufferedBytes -= connection.accountedBytes
        connection.accountedBytes = 0
        connection.fd.close()
        delayedAnswers.removeAll { $0.connectionID == connection.id }
        connectionClosed(connection)
    }

    /// Work tied to a connection (waiters) when it goes away.
    func connectionClosed(_ connection: Connection) {
        dropWaiters(of: connection)
        dropApprovalWaiters(of: connection)
    }
}
