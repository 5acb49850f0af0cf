import AgentPOSIX
import AgentProtocol

/// A connection to the agent's socket, one method per operation.
///
/// Calls block until the agent answers or the time-out passes. The connection is opened on
/// first use and reused; a client is not meant to be shared between threads.
///
/// Every call throws `AgentClientError`, whose `code` is one of Protocol.md's error codes.
/// Any call may throw, besides the codes its own documentation names:
/// - `agent_not_running`: nothing listens at `socketPath`;
/// - `io`: the connection failed or the agent closed it;
/// - `timeout`: no answer within the call's wait (`timeoutMilliseconds`);
/// - `protocol_violation`: the agent's answer was not a valid frame or result;
/// - `busy`: the agent is at its connection cap;
/// - `bad_request`, `unknown_op`, `internal`: the agent refused the request as malformed,
///   does not know the operation (an older agent), or failed itself.
public final class AgentClient {
    public let socketPath: String
    /// How long one call may wait for its answer. Any value is safe: the waits built on
    /// it saturate, and less than 1 ms is 1 ms.
    public var timeoutMilliseconds: Int64
    private var fd: FileDescriptor?
    private var decoder = FrameDecoder()
    private var nextRPCID: Int64 = 1

    /// How long a call waits for the agent's answer unless told otherwise.
    public static let defaultTimeoutMilliseconds: Int64 = 30_000
    /// A long wait (`request.wait`, the CLI's `login` and `approve` loops) polls in slices
    /// this long, so a progress line can count seconds and a deadline is seen on time.
    public static let waitSliceMilliseconds: Int64 = 1_000

    public init(socketPath: String, timeoutMilliseconds: Int64 = AgentClient.defaultTimeoutMilliseconds) {
        self.socketPath = socketPath
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    deinit { close() }

    /// The agent named by `CLAUDE_AGENT_SOCK`, or, when it is unset, the one at the default
    /// path (`$XDG_RUNTIME_DIR/claude-agent/agent.sock`).
    public static func fromEnvironment() -> AgentClient {
        AgentClient(socketPath: SocketPath.resolve(explicit: nil))
    }

    public func close() {
        fd?.close()
        fd = nil
        decoder = FrameDecoder()
    }

    // MARK: Operations

    /// `hello`: the agent's protocol and version.
    ///
    /// - Throws: `unsupported_version` when the agent does not speak protocol 1.
    public func hello() throws(AgentClientError) -> AgentHello {
        AgentHello(try call(.hello, ["protocol": .int(protocolVersion)]))
    }

    /// `status`: pid, version, uptime, socket, lock state, counts.
    ///
    /// - Throws: only the codes every call may throw.
    public func status() throws(AgentClientError) -> AgentStatus {
        let result = try call(.status)
        return try AgentStatus(json: result)
    }

    /// `token.get`: an access token covering `scopes`, from `account` if given.
    ///
    /// The request carries this client's deadline (`timeout_ms`: `timeoutMilliseconds`),
    /// and the client waits `answerGraceMilliseconds` longer for the answer, so that when
    /// a refresh is slow the agent's own reason (`timeout`, `refresh_failed`) arrives
    /// rather than a bare client-side time-out.
    ///
    /// - Parameter refresh: the token this client holds was refused (HTTP 401): have the
    ///   agent refresh it now (coalesced with any refresh in flight, and answered with the
    ///   last refresh's outcome if it ended less than a few seconds ago).
    /// - Throws: the agent's error (`no_token`, `expired`, `login_required`,
    ///   `rotation_lost`, `refresh_failed`, `timeout`, …) or the client's own.
    public func token(scopes: [String] = [], account: AccountReference? = nil, refresh: Bool = false) throws(AgentClientError) -> AccessToken {
        var fields: JSONObject = ["scopes": .array(scopes.map(JSONValue.string))]
        if let account { fields["account"] = account.json }
        if refresh { fields["refresh"] = true }
        // Sent within the protocol's range for timeout_ms.
        let range = NumberRange.requestTimeoutMilliseconds
        fields["timeout_ms"] = .int(min(max(range.lowerBound, timeoutMilliseconds), range.upperBound))
        let result = try call(.tokenGet, fields, waitMilliseconds: timeoutMilliseconds.saturatingAdding(Self.answerGraceMilliseconds))
        return try decoding { () throws(AgentError) in try AccessToken(json: result) }
    }

    /// How much longer than the deadline it sent a client waits for the agent's answer.
    public static let answerGraceMilliseconds: Int64 = 2_000

    /// The least time a client waits for `op`'s answer, whatever its `timeoutMilliseconds`:
    /// an operation that waits for the provider must outlast the agent's worst case with
    /// its default 30 s per-attempt time-out, so that the agent's own outcome arrives
    /// rather than a client time-out. A code exchange (`oauth.callback`) or a refresh
    /// (`request.select_account`) is one attempt plus the HTTPS helper's 2 s grace and the
    /// backoff of retries that never left: 60 s. A revocation (`account.logout`), which is
    /// idempotent and retried, is up to three: 100 s. 0 for the others.
    public static func leastWaitMilliseconds(for op: Op) -> Int64 {
        switch op {
        case .oauthCallback, .requestSelectAccount: return providerCallWaitMilliseconds
        case .accountLogout: return revocationWaitMilliseconds
        default: return 0
        }
    }

    /// The least wait for an operation that makes one call to the provider (a code
    /// exchange or a refresh): one 30 s attempt, the HTTPS helper's grace, and the backoff
    /// of retries that never left (see `leastWaitMilliseconds(for:)`).
    public static let providerCallWaitMilliseconds: Int64 = 60_000
    /// The least wait for `account.logout`: a revocation, retried, is up to three 30 s
    /// attempts with their grace and backoff (see `leastWaitMilliseconds(for:)`).
    public static let revocationWaitMilliseconds: Int64 = 100_000

    /// `account.add`: hands a token bundle to the agent under `name`; with
    /// `lifetimeSeconds`, the agent forgets it that long after (ssh-add's `-t`).
    ///
    /// - Throws: `locked` while the agent is locked; `bad_request` for a bad name, token
    ///   or time, or when the agent holds its most accounts.
    @discardableResult
    public func addAccount(_ name: String, token: TokenBundle, accountID: UInt32? = nil,
                           lifetimeSeconds: Int64? = nil) throws(AgentClientError) -> AccountSummary {
        var fields = token.json
        fields["account"] = .string(name)
        if let accountID { fields["account_id"] = .int(Int64(accountID)) }
        if let lifetimeSeconds { fields["lifetime"] = .int(lifetimeSeconds) }
        let result = try call(.accountAdd, fields)
        return try decoding { () throws(AgentError) in try AccountSummary(json: result) }
    }

    /// `account.list`: every account, without secrets, following the pages.
    ///
    /// - Throws: `locked` while the agent is locked; `protocol_violation` also when the
    ///   pages do not add up (no array, a
    ///   cursor that does not move on, too many pages).
    public func listAccounts() throws(AgentClientError) -> [AccountSummary] {
        let items = try ListPages.collect(.accountList, key: "accounts") { op, fields throws(AgentClientError) in
            try call(op, fields)
        }
        return try decoding { () throws(AgentError) in
            var summaries: [AccountSummary] = []
            for item in items {
                guard let object = item.objectValue else { throw AgentError(.badRequest, "account entry is not an object") }
                summaries.append(try AccountSummary(json: object))
            }
            return summaries
        }
    }

    /// `account.remove`.
    ///
    /// - Throws: `not_found` when no account matches; `locked` while the agent is locked.
    public func removeAccount(_ account: AccountReference) throws(AgentClientError) {
        _ = try call(.accountRemove, ["account": account.json])
    }

    /// `agent.lock`: no token is handed out until `unlock` with the same passphrase.
    ///
    /// - Throws: `locked` when the agent is already locked; `bad_request` for an empty
    ///   passphrase.
    public func lock(passphrase: String) throws(AgentClientError) {
        _ = try call(.agentLock, ["passphrase": .string(passphrase)])
    }

    /// `agent.unlock`.
    ///
    /// - Throws: `not_locked` when it is not locked; `denied` for a wrong passphrase
    ///   (answered after a delay that grows with each failure).
    public func unlock(passphrase: String) throws(AgentClientError) {
        _ = try call(.agentUnlock, ["passphrase": .string(passphrase)])
    }

    /// `agent.stop`: the agent removes its socket, answers with its pid, and exits.
    ///
    /// - Throws: only the codes every call may throw.
    @discardableResult
    public func stop() throws(AgentClientError) -> Int32 {
        let result = try call(.agentStop)
        close()
        return Int32(clamping: result["pid"]?.intValue ?? 0)
    }

    // MARK: The wire

    /// Sends one request and returns its result, or throws the agent's error.
    /// - Parameter waitMilliseconds: how long to wait for the answer (default
    ///   `timeoutMilliseconds`, or `leastWaitMilliseconds(for:)` when that is longer).
    /// - Parameter tick: called about once a second while waiting for the answer.
    ///
    /// - Throws: the agent's error for this request, with its own code, or the client's
    ///   (`agent_not_running`, `io`, `timeout`, `protocol_violation`).
    public func call(_ op: Op, _ fields: JSONObject = JSONObject(), waitMilliseconds: Int64? = nil,
                     tick: () -> Void = {}) throws(AgentClientError) -> JSONObject {
        let rpcID = try send(op, fields)
        let wait = waitMilliseconds ?? max(timeoutMilliseconds, Self.leastWaitMilliseconds(for: op))
        let deadline = Clock.monotonicMilliseconds().saturatingAdding(wait)
        while true {
            let connection = try connected()
            let payload = try readFrame(from: connection, deadline: deadline, waitMilliseconds: wait, tick: tick)
            if let result = try answer(to: rpcID, payload: payload) { return result }
        }
    }

    /// Sends one request without waiting for its answer, for a caller that waits on other
    /// things too: it polls `descriptor` and collects the answer with `availableAnswer(to:)`.
    /// - Returns: the request's RPC id (the wire's `"id"`).
    ///
    /// - Throws: `agent_not_running`, `busy` (refused at the cap), `io`.
    public func send(_ op: Op, _ fields: JSONObject = JSONObject()) throws(AgentClientError) -> Int64 {
        let rpcID = nextRPCID
        nextRPCID += 1
        let request = Request(rpcID: rpcID, op: op, body: fields)
        let connection = try connected()
        do throws(Errno) {
            try connection.sendAll(request.encoded)
        } catch where error == .brokenPipe || error == .connectionReset {
            // An agent at its connection cap answers `busy` and closes without reading: the
            // write fails, but the answer already waits in our receive queue.
            if let refusal = pendingRefusal(on: connection) {
                close()
                throw AgentClientError(refusal)
            }
            close()
            throw AgentClientError(.io, "the agent closed the connection")
        } catch {
            close()
            throw AgentClientError(.io, "sending to the agent at \(socketPath) failed: \(error)")
        }
        return rpcID
    }

    /// The open connection, to poll for readability beside other descriptors; nil before
    /// the first call or after a failure.
    public var descriptor: FileDescriptor? { fd }

    /// Reads what the agent has sent without blocking: the answer to `rpcID` once it is
    /// complete, else nil.
    /// - Throws: the agent's error for `rpcID`, or `io`/`protocol_violation` for the connection.
    public func availableAnswer(to rpcID: Int64) throws(AgentClientError) -> JSONObject? {
        let connection = try connected()
        while true {
            let payload: [UInt8]?
            do throws(FrameError) {
                payload = try decoder.next()
            } catch {
                close()
                throw AgentClientError(.protocolViolation, "the agent sent a bad frame: \(error)")
            }
            if let payload {
                if let result = try answer(to: rpcID, payload: payload) { return result }
                continue
            }
            guard (try? waitFor(connection, .readable, timeoutMilliseconds: 0)) == true else { return nil }
            decoder.append(try readChunk(from: connection))
        }
    }

    /// The result in `payload` if it answers `rpcID`; nil for an answer to an abandoned request.
    private func answer(to rpcID: Int64, payload: [UInt8]) throws(AgentClientError) -> JSONObject? {
        guard let response = Response.decode(payload) else {
            close()
            throw AgentClientError(.protocolViolation, "the agent sent a malformed response")
        }
        if response.rpcID == 0, case .failure(let error) = response.result {
            close()  // answered before reading our request: busy, or a frame-level refusal
            throw AgentClientError(error)
        }
        guard response.rpcID == rpcID else { return nil }
        switch response.result {
        case .success(let result): return result
        case .failure(let error): throw AgentClientError(error)
        }
    }

    /// The agent's refusal (an error frame with RPC id 0, such as `busy`) left unread on a
    /// connection it closed, or nil when there is none: after a failed write, the bytes
    /// the agent sent before closing are still ours to read (a Unix socket delivers what
    /// was queued before the end of stream or the reset).
    private func pendingRefusal(on connection: FileDescriptor) -> AgentError? {
        while true {
            do throws(FrameError) {
                if let payload = try decoder.next() {
                    guard let response = Response.decode(payload) else { return nil }
                    if response.rpcID == 0, case .failure(let error) = response.result { return error }
                    continue
                }
            } catch {
                return nil
            }
            guard let chunk = try? connection.read(upTo: POSIXLimits.readChunkBytes), !chunk.isEmpty else { return nil }
            decoder.append(chunk)
        }
    }

    private func connected() throws(AgentClientError) -> FileDescriptor {
        if let fd { return fd }
        do throws(Errno) {
            let fd = try UnixSocket.connect(path: socketPath)
            try fd.setTimeouts(milliseconds: timeoutMilliseconds)
            self.fd = fd
            return fd
        } catch {
            throw AgentClientError(.agentNotRunning, "no agent at \(socketPath) (\(error)); start one with: eval \"$(claude-agent start)\"")
        }
    }

    /// - Parameters:
    ///   - deadline: monotonic milliseconds by which the frame must have arrived.
    ///   - waitMilliseconds: the wait that deadline ends, for the message.
    private func readFrame(from connection: FileDescriptor, deadline: Int64, waitMilliseconds: Int64,
                           tick: () -> Void) throws(AgentClientError) -> [UInt8] {
        while true {
            do throws(FrameError) {
                if let payload = try decoder.next() { return payload }
            } catch {
                close()
                throw AgentClientError(.protocolViolation, "the agent sent a bad frame: \(error)")
            }
            // Wait in slices of a second so a long wait can show progress.
            while (try? waitFor(connection, .readable, timeoutMilliseconds: Int32(Self.waitSliceMilliseconds))) == false {
                if Clock.monotonicMilliseconds() >= deadline {
                    close()
                    throw AgentClientError(.timeout, "the agent did not answer within \(waitMilliseconds) ms")
                }
                tick()
            }
            decoder.append(try readChunk(from: connection))
        }
    }

    /// One read from a readable connection; end of file is the agent closing it.
    private func readChunk(from connection: FileDescriptor) throws(AgentClientError) -> [UInt8] {
        let chunk: [UInt8]
        do throws(Errno) {
            chunk = try connection.read(upTo: POSIXLimits.readChunkBytes)
        } catch where error == .wouldBlock {
            close()
            throw AgentClientError(.timeout, "the agent did not answer within \(timeoutMilliseconds) ms")
        } catch where error == .connectionReset {
            close()
            throw AgentClientError(.io, "the agent closed the connection")
        } catch {
            close()
            throw AgentClientError(.io, "reading from the agent failed: \(error)")
        }
        if chunk.isEmpty {
            close()
            throw AgentClientError(.io, "the agent closed the connection")
        }
        return chunk
    }

    private func decoding<T>(_ body: () throws(AgentError) -> T) throws(AgentClientError) -> T {
        try decode(body)
    }
}
