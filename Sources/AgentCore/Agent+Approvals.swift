import AgentCrypto
import AgentPOSIX
import AgentProtocol
import OAuth

/// A client blocked on a request: `request.wait` (answered with the request) or
/// `token.get` with `wait` (answered with the token or the reason there is none).
struct ApprovalWaiter {
    enum Kind { case request, token }
    let connectionID: UInt64
    let rpcID: Int64
    let kind: Kind
    /// Monotonic milliseconds when the wait gives up with `timeout`.
    let deadline: Int64
    /// A wait of the process that made the request over the socket: when the last such
    /// wait ends unanswered (time-out, hang-up), the request is cancelled, since no one is
    /// left to take its token. An approver's wait (`claude-agent approve`) does not hold it.
    let holds: Bool
}

/// The approval flow: token requests a person approves by choosing an account.
extension Agent {
    func handleRequestCreate(_ request: Request, on connection: Connection) throws(AgentError) -> Reply {
        let created = try createApproval(request.body, caller: connection.peer)
        return .result(created.json(includingToken: false))
    }

    /// The reason a request is cancelled when its last holding wait is gone.
    static let waiterGoneReason = "waiter gone"

    func createApproval(_ body: JSONObject, caller peer: PeerCredentials) throws(AgentError) -> ApprovalRequest {
        let scopes = try body.scopes() ?? []
        let clientName = try body.optionalString("client_name") ?? Caller.executableName(pid: peer.pid) ?? "unknown"
        let hostname = try body.optionalString("hostname") ?? Caller.hostname()
        guard clientName.utf8.count <= Limits.maxClientNameBytes, hostname.utf8.count <= Limits.maxClientNameBytes else {
            throw AgentError(.badRequest, "client_name and hostname must be at most \(Limits.maxClientNameBytes) bytes")
        }
        // Shown on other users' terminals (`claude-agent requests`): no control characters.
        for (field, text) in [("client_name", clientName), ("hostname", hostname)] {
            if let problem = FreeText.problem(with: text, field: field) { throw AgentError(.badRequest, problem) }
        }
        let id: String
        do throws(Errno) {
            id = ApprovalID.format(try RandomBytes.generate(ApprovalID.randomByteCount))
        } catch {
            throw AgentError(.internal, "could not make a request id: \(error)")
        }
        // A relay (the HTTP bridge) may name the process it relays for; it is used when it
        // belongs to the same user as the relay, else the relay itself is the caller.
        var pid = peer.pid
        if let relayed = try body.optionalInt("caller_pid", in: NumberRange.processID), let candidate = Int32(exactly: relayed),
           Caller.uid(pid: candidate) == peer.uid {
            pid = candidate
        }
        // A forwarded connection's peer is the relaying ssh; the approver sees where it leads.
        let forwarder = Forwarding.forwarder(pid: peer.pid)
        let caller = CallerInfo(pid: pid, uid: peer.uid, executable: Caller.executable(pid: pid),
                                commandLine: Caller.commandLine(pid: pid),
                                forwardedVia: forwarder?.via, forwardedTo: forwarder?.destination)
        let preferred = try body.optionalAccount()
        if case .name(let name) = preferred, let problem = AccountName.problem(with: name) {
            throw AgentError(.badRequest, "field \"account\": \(problem)")
        }
        let created = try approvals.create(id: id, clientName: clientName, hostname: hostname, scopes: scopes,
                                          preferredAccount: preferred, caller: caller,
                                          now: clock.unixSeconds(), monotonic: clock.monotonicMilliseconds())
        // A request relayed for another process (the HTTP bridge's clients poll without a
        // connection) keeps its own lifetime; one made over the socket lives while its
        // maker waits.
        if pid == peer.pid { socketApprovalCreators[id] = peer.pid }
        let through = forwarder.map { " through \($0.description)" } ?? ""
        Log.info("token request \(id) from \(clientName) (pid \(peer.pid)\(through)) for [\(Scopes.joined(scopes))]")
        return created
    }

    func approvalID(_ body: JSONObject) throws(AgentError) -> String {
        let id = try body.string("request_id")
        guard ApprovalID.isValid(id) else { throw AgentError(.badRequest, "request_id \"\(id)\" is not a request id") }
        guard approvals[id] != nil else { throw AgentError(.notFound, "no token request \(id)") }
        return id
    }

    func handleRequestGet(_ request: Request) throws(AgentError) -> Reply {
        let id = try approvalID(request.body)
        return .result(approvals[id]?.json(includingToken: true) ?? [:])
    }

    /// A page of the live requests, oldest first; the cursor is the last one's sequence.
    func handleRequestList(_ request: Request) throws(AgentError) -> Reply {
        let (limit, after) = try request.body.paging()
        var page = Page(key: "requests", limit: limit)
        var last: UInt64?
        var more = false
        for live in approvals.live(after: after) {
            guard page.add(live.json(includingToken: false)) else {
                more = true
                break
            }
            last = live.sequence
        }
        return .serialized(page.serialized(nextCursor: more ? last.map { String($0) } : nil))
    }

    /// Blocks on the socket until the request ends or its `timeout` (seconds) passes.
    func handleRequestWait(_ request: Request, on connection: Connection) throws(AgentError) -> Reply {
        let id = try approvalID(request.body)
        let timeoutSeconds = try waitTimeoutSeconds(request.body)
        if let existing = approvals[id], existing.status.isTerminal { return .result(existing.json(includingToken: true)) }
        addApprovalWaiter(id, ApprovalWaiter(connectionID: connection.id, rpcID: request.rpcID, kind: .request,
                                           deadline: clock.monotonicMilliseconds().saturatingAdding(timeoutSeconds.saturatingMultiplied(by: 1000)),
                                           holds: socketApprovalCreators[id] == connection.peer.pid))
        return .deferred
    }

    /// A wait's `timeout` field, in seconds, range-checked; the default when absent.
    func waitTimeoutSeconds(_ body: JSONObject) throws(AgentError) -> Int64 {
        try body.optionalInt("timeout", in: NumberRange.waitSeconds, unit: "seconds") ?? Limits.defaultWaitSeconds
    }

    func addApprovalWaiter(_ id: String, _ waiter: ApprovalWaiter) {
        approvalWaiters[id, default: []].append(waiter)
    }

    func handleRequestDeny(_ request: Request) throws(AgentError) -> Reply {
        try requireUnlocked()
        let id = try approvalID(request.body)
        let reason = try request.body.optionalString("reason") ?? "denied by the user"
        guard reason.utf8.count <= Limits.maxDenyReasonBytes else {
            throw AgentError(.badRequest, "field \"reason\" must be at most \(Limits.maxDenyReasonBytes) bytes")
        }
        // Printed on the waiting client's terminal: no control characters.
        if let problem = FreeText.problem(with: reason, field: "reason") { throw AgentError(.badRequest, problem) }
        let denied = try moveApproval(id, to: .denied) { $0.error = reason }
        return .result(denied.json(includingToken: false))
    }

    func handleRequestCancel(_ request: Request) throws(AgentError) -> Reply {
        let id = try approvalID(request.body)
        let cancelled = try moveApproval(id, to: .cancelled) { $0.error = "cancelled" }
        return .result(cancelled.json(includingToken: false))
    }

    /// Moves a request and, when it ends, answers everyone waiting on it.
    @discardableResult
    func moveApproval(_ id: String, to status: ApprovalStatus, _ update: (inout ApprovalRequest) -> Void = { _ in }) throws(AgentError) -> ApprovalRequest {
        let previousState = approvals[id]?.authorizationState
        let moved = try approvals.move(id, to: status, now: clock.unixSeconds(), monotonic: clock.monotonicMilliseconds(), update)
        if let previousState, previousState != moved.authorizationState { pendingLogins[previousState] = nil }
        Log.info("token request \(id) is \(status.rawValue)\(moved.error.map { ": \($0)" } ?? "")")
        if status.isTerminal {
            socketApprovalCreators[id] = nil
            answerApprovalWaiters(moved)
        }
        return moved
    }

    func answerApprovalWaiters(_ approval: ApprovalRequest) {
        for waiter in approvalWaiters.removeValue(forKey: approval.id) ?? [] {
            guard let connection = connections[waiter.connectionID] else { continue }
            answerDeferred(connection, answer(for: waiter, approval))
        }
    }

    /// What a waiter gets when its request ends.
    func answer(for waiter: ApprovalWaiter, _ approval: ApprovalRequest) -> JSONValue {
        switch waiter.kind {
        case .request:
            return Response.success(rpcID: waiter.rpcID, approval.json(includingToken: true))
        case .token:
            if approval.status == .approved, let token = approval.token {
                return Response.success(rpcID: waiter.rpcID, token.json)
            }
            let reason = approval.error.map { ": \($0)" } ?? ""
            return Response.failure(rpcID: waiter.rpcID, AgentError(approval.status.failureCode, "token request \(approval.id) \(approval.status.rawValue)\(reason)"))
        }
    }

    /// Waits that ran out answer `timeout`; a request whose last holding wait ran out is
    /// cancelled. Requests past their time expire; ended ones are dropped after their
    /// retention.
    func sweepApprovals(monotonic: Int64) {
        for id in approvals.sweep(now: clock.unixSeconds(), monotonic: monotonic) {
            if let expired = approvals[id] {
                Log.info("token request \(id) expired")
                socketApprovalCreators[id] = nil
                answerApprovalWaiters(expired)
            }
        }
        for (id, waiters) in approvalWaiters {
            let (due, waiting) = (waiters.filter { $0.deadline <= monotonic }, waiters.filter { $0.deadline > monotonic })
            guard !due.isEmpty else { continue }
            approvalWaiters[id] = waiting.isEmpty ? nil : waiting
            let cancelling = due.contains(where: \.holds) && !waiting.contains(where: \.holds)
                && approvals[id].map { !$0.status.isTerminal } == true
            for waiter in due {
                guard let connection = connections[waiter.connectionID] else { continue }
                let status = approvals[id]?.status.rawValue ?? "gone"
                let error = AgentError(.timeout, cancelling ? "token request \(id) was still \(status) when the wait ran out; it is cancelled"
                                                            : "token request \(id) is still \(status) after the wait")
                answerDeferred(connection, Response.failure(rpcID: waiter.rpcID, error))
            }
            cancelIfUnheld(id, lost: due)
        }
    }

    /// A waiter hung up: a request whose last holding wait it was is cancelled.
    func dropApprovalWaiters(of connection: Connection) {
        for (id, waiters) in approvalWaiters where waiters.contains(where: { $0.connectionID == connection.id }) {
            let remaining = waiters.filter { $0.connectionID != connection.id }
            approvalWaiters[id] = remaining.isEmpty ? nil : remaining
            cancelIfUnheld(id, lost: waiters.filter { $0.connectionID == connection.id })
        }
    }

    /// After `lost` waits ended unanswered: when one of them held request `id` and no
    /// holding wait is left, no one will take its token, so it is cancelled at once (and
    /// approvers watching it hear why) rather than left for an approver to act on.
    func cancelIfUnheld(_ id: String, lost: [ApprovalWaiter]) {
        guard lost.contains(where: \.holds), !(approvalWaiters[id] ?? []).contains(where: \.holds),
              let request = approvals[id], !request.status.isTerminal else { return }
        _ = try? moveApproval(id, to: .cancelled) { $0.error = Self.waiterGoneReason }
    }

    /// `token.get` with `wait`: when no valid token covers the scopes, a request is made and
    /// the answer comes when it ends.
    /// - Parameter deadline: the client's own (`timeout_ms`), monotonic milliseconds, when
    ///   earlier than the wait's `timeout`.
    func waitForApproval(_ request: Request, scopes: [String], on connection: Connection, after failure: AgentError,
                         deadline: Int64? = nil) throws(AgentError) -> Reply {
        guard [.noToken, .notFound, .expired, .loginRequired, .rotationLost].contains(failure.code) else { throw failure }
        let timeoutSeconds = try waitTimeoutSeconds(request.body)
        let created = try createApproval(request.body, caller: connection.peer)
        let waitEnds = clock.monotonicMilliseconds().saturatingAdding(timeoutSeconds.saturatingMultiplied(by: 1000))
        addApprovalWaiter(created.id, ApprovalWaiter(connectionID: connection.id, rpcID: request.rpcID, kind: .token,
                                                   deadline: min(waitEnds, deadline ?? waitEnds), holds: true))
        return .deferred
    }

    // MARK: Selecting an account

    /// Approves at once with a held (or refreshable) token covering the scopes; otherwise
    /// starts an authorization for the account and asks the control browser to open it
    /// (or hands the URL back with `print_url`).
    func handleSelectAccount(_ request: Request, on connection: Connection) throws(AgentError) -> Reply {
        try requireUnlocked()
        let body = request.body
        let id = try approvalID(body)
        let reference = try body.account()
        let printURL = try body.optionalBool("print_url") ?? false
        guard let approval = approvals[id] else { throw AgentError(.notFound, "no token request \(id)") }
        guard approval.status.canMove(to: .inProgress) else {
            throw AgentError(.invalidStatus, "token request \(id) is \(approval.status.rawValue); an account can no longer be selected")
        }
        if let account = store.account(reference), Scopes.cover(account.scopes, approval.scopes) {
            let now = clock.unixSeconds()
            if let token = account.token, !tokenIsExpired(account, now: now) {
                let approved = try moveApproval(id, to: .approved) {
                    $0.accountID = account.id
                    $0.accountName = account.name
                    $0.token = self.accessToken(of: account, token)
                }
                return .result(approved.json(includingToken: false))
            }
            if canRefresh(account) {
                let moved = try moveApproval(id, to: .inProgress) {
                    $0.accountID = account.id
                    $0.accountName = account.name
                }
                startRefresh(of: account)
                refreshApprovals[account.id, default: []].append(id)
                return .result(moved.json(includingToken: false))
            }
        }
        return try startAuthorization(id, reference: reference, printURL: printURL,
                                      redirectURI: try body.optionalString("redirect_uri"), request: request, on: connection)
    }

    func startAuthorization(_ id: String, reference: AccountReference, printURL: Bool, redirectURI given: String?,
                            request: Request, on connection: Connection) throws(AgentError) -> Reply {
        let existing = store.account(reference)
        let providerName = existing?.provider ?? settings.defaultProvider
        guard let provider = settings.provider(named: providerName) else {
            throw AgentError(.notFound, "no provider \"\(providerName)\" is configured")
        }
        let accountID: UInt32
        let accountName: String
        switch reference {
        case .id(let number):
            accountID = number
            accountName = existing?.name ?? "account-\(number)"
        case .name(let name):
            if let problem = AccountName.problem(with: name) { throw AgentError(.badRequest, problem) }
            accountID = existing?.id ?? store.nextID(excluding: pendingLogins.values.compactMap(\.accountID))
            accountName = name
        }
        // With no redirect from the approver, the bridge's callback (its port, in the
        // provider's registered form: Claude's wants http://localhost:<port>/callback).
        let (redirectURI, _) = try redirect(for: provider, offered: given, fallback: configuration.callbackURL)
        let scopes = Scopes.normalize(approvals[id].map(\.scopes).map { $0.isEmpty ? provider.scopes : $0 } ?? provider.scopes)
        let (state, pkce) = try makeAuthorizationSecrets()
        let moved = try moveApproval(id, to: .inProgress) {
            $0.accountID = accountID
            $0.accountName = accountName
            $0.authorizationState = state
        }
        pendingLogins[state] = PendingLogin(state: state, verifier: pkce.verifier, account: accountName, accountID: accountID,
                                            provider: providerName, redirectURI: redirectURI, scopes: scopes,
                                            expiresAt: moved.deadline, approvalID: id)
        let url = AuthorizeRequest(authorizationEndpoint: provider.authorizationEndpoint, clientID: provider.clientID, redirectURI: redirectURI,
                                   scopes: scopes, state: state, codeChallenge: pkce.challenge,
                                   extraParameters: provider.extraAuthorizeParameters).url
        if printURL {
            var result = moved.json(includingToken: false)
            result["authorize_url"] = .string(url)
            result["state"] = .string(state)
            result["redirect_uri"] = .string(redirectURI)
            return .result(result)
        }
        let browser = ControlBrowserClient(baseURL: settings.controlBrowserURL, transport: transport)
        let connectionID = connection.id
        let rpcID = request.rpcID
        worker.submit {
            .controlBrowserOpened(connectionID: connectionID, rpcID: rpcID, approvalID: id, state: state,
                                  Result { () throws(OAuthError) in try browser.openAuth(accountID: accountID, authorizeURL: url) })
        }
        return .deferred
    }

    func finishControlBrowser(connectionID: UInt64, rpcID: Int64, approvalID id: String, state: String, _ result: Result<Void, OAuthError>) {
        let answer: JSONValue
        switch result {
        case .success:
            // The state goes to the approver (same uid, over the socket) so a relaying
            // listener can tell our callback from others; the bridge does not pass it on.
            var result = approvals[id]?.json(includingToken: false) ?? [:]
            result["state"] = .string(state)
            if let redirectURI = pendingLogins[state]?.redirectURI { result["redirect_uri"] = .string(redirectURI) }
            answer = Response.success(rpcID: rpcID, result)
        case .failure(let error):
            // Only if this authorization is still the request's current one.
            if approvals[id]?.authorizationState == state {
                _ = try? moveApproval(id, to: .error) { $0.error = "control browser: \(error.message)" }
            }
            answer = Response.failure(rpcID: rpcID, AgentError(.controlBrowserFailed, "the control browser could not open the authorization: \(error.message)"))
        }
        if let connection = connections[connectionID] { answerDeferred(connection, answer) }
    }

    /// A refresh that a selection waited on finished: approve or fail those requests.
    func finishRefreshApprovals(accountID: UInt32, failure: AgentError?) {
        for id in refreshApprovals.removeValue(forKey: accountID) ?? [] {
            guard let request = approvals[id], !request.status.isTerminal, request.accountID == accountID else { continue }
            if failure == nil, let account = store.account(id: accountID), let token = account.token,
               !tokenIsExpired(account, now: clock.unixSeconds()) {
                _ = try? moveApproval(id, to: .approved) { $0.token = self.accessToken(of: account, token) }
            } else {
                _ = try? moveApproval(id, to: .error) { $0.error = failure?.message ?? "the account's token could not be refreshed" }
            }
        }
    }
}

extension ApprovalID {
    /// The bytes of a UUID (RFC 4122 §4.1); a version 4 one keeps 122 of their bits random.
    static let randomByteCount = 16

    /// A version 4 UUID from `randomByteCount` random bytes.
    static func format(_ bytes: [UInt8]) -> String {
        var bytes = bytes
        bytes[6] = bytes[6] & 0x0f | 0x40  // version 4
        bytes[8] = bytes[8] & 0x3f | 0x80  // RFC 4122 variant
        let characters = Array(Hex.encode(bytes))
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }
}
