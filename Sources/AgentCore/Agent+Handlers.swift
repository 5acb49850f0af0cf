import AgentPOSIX
import AgentProtocol

/// What a handler produced: an answer now, or a promise to answer later (the connection
/// waits, its later requests stay buffered).
enum Reply {
    case result(JSONObject)
    /// A result serialized beforehand (the cached answer to `token.get`).
    case serialized([UInt8])
    case deferred
}

extension Agent {
    /// One `switch`, one handler per operation, as ssh-agent's process_message.
    func dispatch(_ request: Request, on connection: Connection) {
        let reply: Reply
        do throws(AgentError) {
            guard let op = Op(rawValue: request.op) else {
                throw AgentError(.unknownOp, "unknown op \"\(request.op)\"; \"hello\" lists the supported ones")
            }
            // Exhaustive: a new `Op` does not compile until it has a handler.
            switch op {
            case .hello: reply = try handleHello(request)
            case .status: reply = handleStatus()
            case .tokenGet: reply = try handleTokenGet(request, on: connection)
            case .accountAdd: reply = try handleAccountAdd(request)
            case .accountList: reply = try handleAccountList(request)
            case .accountRemove: reply = try handleAccountRemove(request)
            case .agentLock: reply = try handleLock(request)
            case .agentUnlock: reply = try handleUnlock(request, on: connection)
            case .agentStop: reply = handleStop(connection)
            case .loginStart: reply = try handleLoginStart(request)
            case .oauthCallback: reply = try handleOAuthCallback(request, on: connection)
            case .accountLogout: reply = try handleLogout(request, on: connection)
            case .accountImport: reply = try handleImport(request)
            case .requestCreate: reply = try handleRequestCreate(request, on: connection)
            case .requestGet: reply = try handleRequestGet(request)
            case .requestList: reply = try handleRequestList(request)
            case .requestWait: reply = try handleRequestWait(request, on: connection)
            case .requestSelectAccount: reply = try handleSelectAccount(request, on: connection)
            case .requestDeny: reply = try handleRequestDeny(request)
            case .requestCancel: reply = try handleRequestCancel(request)
            case .providerGet: reply = try handleProviderGet(request)
            }
        } catch {
            connection.enqueue(Response.failure(rpcID: request.rpcID, error))
            return
        }
        switch reply {
        case .result(let result): connection.enqueue(Response.success(rpcID: request.rpcID, result))
        case .serialized(let result): connection.enqueue(frame: Response.successFrame(rpcID: request.rpcID, serializedResult: result))
        case .deferred: connection.awaitingRPCID = request.rpcID
        }
    }

    func handleHello(_ request: Request) throws(AgentError) -> Reply {
        if let wanted = try request.body.optionalInt("protocol"), wanted < 1 {
            throw AgentError(.unsupportedVersion, "protocol \(wanted) is not supported; this agent speaks protocol \(protocolVersion)")
        }
        return .result([
            "protocol": .int(protocolVersion),
            "agent": "claude-agent",
            "version": .string(configuration.version),
            "ops": .array(Op.allCases.map { .string($0.rawValue) }),
        ])
    }

    func handleStatus() -> Reply {
        let now = clock.unixSeconds()
        return .result([
            "pid": .int(Int64(ProcessControl.currentPID)),
            "version": .string(configuration.version),
            "protocol": .int(protocolVersion),
            "started_at": .string(RFC3339.format(startedAt)),
            "uptime_seconds": .int(now - startedAt),
            "socket": .string(configuration.socketPath),
            "locked": .bool(lock.isLocked),
            "accounts": .int(Int64(store.count)),
            "connections": .int(Int64(connections.count)),
            "refreshes": .int(Int64(refreshesStarted)),
            // Bounded, so the answer does not grow with the table: `account.list` pages
            // through every account (see `Limits.maxStatusAccountStates`).
            "account_states": .array(store.inIDOrder.prefix(Limits.maxStatusAccountStates).map {
                .object(["account": .string($0.name), "id": .int(Int64($0.id)), "state": .string(state(of: $0, now: now).rawValue),
                         "refresh_expires_at": $0.token?.refreshTokenExpiresAt.map { .string(RFC3339.format($0)) } ?? .null])
            }),
            "account_states_truncated": .bool(store.count > Limits.maxStatusAccountStates),
            "warnings": .array(store.inIDOrder.compactMap { self.refreshExpiryWarning(for: $0, now: now) }
                .prefix(Limits.maxStatusAccountStates).map(JSONValue.string)),
        ])
    }

    /// "account work: its refresh token lapses at …; log in again before then", for an
    /// account whose refresh token lapses within `Limits.refreshExpiryWarningSeconds`
    /// (or has lapsed); nil otherwise.
    func refreshExpiryWarning(for account: Account, now: Int64) -> String? {
        guard let token = account.token, token.refreshToken != nil, let lapses = token.refreshTokenExpiresAt else { return nil }
        let (warnFrom, overflow) = lapses.subtractingReportingOverflow(Limits.refreshExpiryWarningSeconds)
        guard overflow || now >= warnFrom else { return nil }
        let when = lapses <= now ? "lapsed at" : "lapses at"
        return "account \(account.name): its refresh token \(when) \(RFC3339.format(lapses)); run claude-agent login --account \(account.name) before then"
    }

    /// Logs, once per account, that its refresh token lapses within a day.
    func warnOfRefreshExpiry(now: Int64) {
        for account in store.accounts where !account.refreshExpiryWarned {
            warnOfRefreshExpiry(account, now: now)
        }
    }

    /// The same for one account, right when it gets new tokens.
    func warnOfRefreshExpiry(_ account: Account, now: Int64) {
        guard !account.refreshExpiryWarned, let warning = refreshExpiryWarning(for: account, now: now) else { return }
        Log.info(warning)
        store.update(account.id) { $0.refreshExpiryWarned = true }
    }

    /// An unexpired token covering the scopes: from the named account, or else from the
    /// lowest-id account that has one, or can refresh one.
    ///
    /// `refresh: true` forces a refresh (see `serveToken`); `timeout_ms` is the client's
    /// deadline, answered before (see `tokenDeadline`).
    func handleTokenGet(_ request: Request, on connection: Connection) throws(AgentError) -> Reply {
        try requireUnlocked()
        let scopes = try request.body.scopes() ?? []
        let wait = try request.body.optionalBool("wait") ?? false
        let demand = TokenDemand(force: try request.body.optionalBool("refresh") ?? false,
                                 deadline: try tokenDeadline(request.body))
        // Checked even when a held token answers at once: a bad number is a bad request.
        _ = try waitTimeoutSeconds(request.body)
        do throws(AgentError) {
            let account = try chooseAccount(try request.body.optionalAccount(), scopes: scopes)
            if wait, tokenIsExpired(account, now: clock.unixSeconds()), !canRefresh(account) {
                throw unavailable(account)
            }
            return try serveToken(of: account, scopes: scopes, rpcID: request.rpcID, on: connection, demand: demand)
        } catch where wait {
            return try waitForApproval(request, scopes: scopes, on: connection, after: error, deadline: demand.deadline)
        }
    }

    /// The monotonic moment by which to answer a request that carries `timeout_ms` (its
    /// client's deadline, `NumberRange.requestTimeoutMilliseconds`): that long after it
    /// arrived, less a margin of a tenth of it (at most 500 ms), so the answer is on the
    /// wire before the client gives up. nil without `timeout_ms`.
    func tokenDeadline(_ body: JSONObject) throws(AgentError) -> Int64? {
        guard let timeoutMilliseconds = try body.optionalInt("timeout_ms", in: NumberRange.requestTimeoutMilliseconds,
                                                            unit: "milliseconds") else {
            return nil
        }
        let margin = min(Limits.tokenDeadlineMarginMilliseconds, timeoutMilliseconds / 10)
        return clock.monotonicMilliseconds().saturatingAdding(timeoutMilliseconds - margin)
    }

    func chooseAccount(_ reference: AccountReference?, scopes: [String]) throws(AgentError) -> Account {
        if let reference {
            guard let found = store.account(reference) else { throw AgentError(.notFound, "no account \(reference)") }
            guard Scopes.cover(found.scopes, scopes) else {
                throw AgentError(.noToken, "account \(found.name) holds scopes [\(Scopes.joined(found.scopes))], which do not cover [\(Scopes.joined(scopes))]")
            }
            return found
        }
        // Lowest id first: the first covering account with a live token, else the first
        // that can be refreshed, else the first covering one (whose error is the answer).
        // Stops at the first live one, so the usual case costs one look however many
        // accounts are held.
        let now = clock.unixSeconds()
        var first: Account?
        var refreshable: Account?
        for account in store.inIDOrder where Scopes.cover(account.scopes, scopes) {
            if account.token != nil, !tokenIsExpired(account, now: now) { return account }
            if first == nil { first = account }
            if refreshable == nil, canRefresh(account) { refreshable = account }
        }
        guard let chosen = refreshable ?? first else {
            let what = scopes.isEmpty ? "" : " covering [\(Scopes.joined(scopes))]"
            throw AgentError(.noToken, "no token held\(what)")
        }
        return chosen
    }

    /// What a client is handed: the access token and the headers its provider's tokens
    /// need (`token.get`'s `headers`; `{}` for a provider that configures none).
    func accessToken(of account: Account, _ token: HeldToken) -> AccessToken {
        var headers = JSONObject()
        for (name, value) in account.provider.flatMap({ settings.provider(named: $0) })?.headers ?? [] {
            headers[name] = .string(value)
        }
        return AccessToken(accessToken: token.accessToken, tokenType: token.tokenType, expiresAt: token.expiresAt,
                           scopes: token.scopes, account: account.name, accountID: account.id, headers: headers)
    }

    func handleAccountAdd(_ request: Request) throws(AgentError) -> Reply {
        try requireUnlocked()
        let body = request.body
        let name = try body.string("account")
        if let problem = AccountName.problem(with: name) { throw AgentError(.badRequest, problem) }
        let now = clock.unixSeconds()
        let imported = try TokenBundle(json: body, now: now)
        var requestedID: UInt32?
        if let id = try body.optionalInt("account_id") {
            guard let valid = UInt32(exactly: id) else {
                throw AgentError(.badRequest, "field \"account_id\" must be from 0 to 4294967295")
            }
            requestedID = valid
        }
        let lifetime = try body.optionalInt("lifetime", in: NumberRange.durationSeconds, unit: "seconds")
            ?? configuration.defaultLifetimeSeconds
        let provider = try body.optionalString("provider") ?? (imported.refreshToken != nil ? settings.defaultProvider : nil)
        if let provider, settings.provider(named: provider) == nil {
            throw AgentError(.notFound, "no provider \"\(provider)\" is configured")
        }
        let token = HeldToken(accessToken: imported.accessToken, refreshToken: imported.refreshToken,
                              expiresAt: imported.expiresAt, tokenType: imported.tokenType, scopes: imported.scopes,
                              refreshTokenExpiresAt: imported.refreshTokenExpiresAt)
        try refuseDeadOnArrival(token, account: name, now: now)
        let account = try store.store(name: name, requestedID: requestedID, provider: provider, token: token,
                                      forgetAt: lifetime.map { now.saturatingAdding($0) }, now: now)
        Log.info("added account \(account.name) (#\(account.id)), token \(token.fingerprint)")
        return .result(summary(of: store.account(id: account.id) ?? account, now: now).json)
    }

    /// A token without a refresh token that is already expired, or within the expiry skew
    /// (so never handed out: `ExpiryRule`), could never be used: refused (`expired`)
    /// rather than held in silence.
    func refuseDeadOnArrival(_ token: HeldToken, account name: String, now: Int64) throws(AgentError) {
        guard token.refreshToken == nil, let expiresAt = token.expiresAt, expiry.isExpired(token, obtainedAt: nil, now: now) else {
            return
        }
        throw AgentError(.expired, "the token for account \(name) \(expiry.expiredPhrase(expiresAt, now: now)) and comes without "
                         + "a refresh token, so it could never be used: log in (claude-agent login) or add a current one")
    }

    /// A page of account summaries, lowest id first; the cursor is the last id served.
    func handleAccountList(_ request: Request) throws(AgentError) -> Reply {
        try requireUnlocked()
        let (limit, after) = try request.body.paging()
        let now = clock.unixSeconds()
        var page = Page(key: "accounts", limit: limit)
        var last: UInt32?
        var more = false
        // Ids are 32-bit: a larger cursor lies past every account.
        let start: UInt32? = after.map { UInt32(clamping: $0) }
        if after.map({ $0 <= UInt64(UInt32.max) }) ?? true {
            for account in store.accounts(after: start) {
                guard page.add(summary(of: account, now: now).json) else {
                    more = true
                    break
                }
                last = account.id
            }
        }
        return .serialized(page.serialized(nextCursor: more ? last.map { String($0) } : nil))
    }

    func summary(of account: Account, now: Int64) -> AccountSummary {
        AccountSummary(id: account.id, name: account.name, scopes: account.scopes,
                       expiresAt: account.token?.expiresAt, fingerprint: account.token?.fingerprint ?? "",
                       hasRefreshToken: account.token?.refreshToken != nil,
                       state: state(of: account, now: now), forgetAt: account.forgetAt,
                       refreshTokenExpiresAt: account.token?.refreshToken != nil ? account.token?.refreshTokenExpiresAt : nil,
                       profile: account.profile)
    }

    /// `ok`, `refreshing`, `login_required`, `error: <why the last refresh failed>` or
    /// `expired` (and not refreshable).
    func state(of account: Account, now: Int64) -> AccountState {
        if refreshWaiters[account.id] != nil { return .refreshing }
        guard account.token != nil else { return account.lastRefreshFailure?.code == .rotationLost ? .rotationLost : .loginRequired }
        // Capped so an account's summary stays a known size (see `Page`).
        if let error = account.lastRefreshError { return .error(FreeText.prefix(error, maxBytes: Self.maxStateReasonBytes)) }
        return tokenIsExpired(account, now: now) && !canRefresh(account) ? .expired : .ok
    }

    /// How much of a refresh failure's reason `state` repeats, in bytes of UTF-8 (whole
    /// characters): a count of characters would not bound the size.
    static let maxStateReasonBytes = 256

    func handleAccountRemove(_ request: Request) throws(AgentError) -> Reply {
        try requireUnlocked()
        let reference = try request.body.account()
        guard let account = store.remove(reference) else { throw AgentError(.notFound, "no account \(reference)") }
        Log.info("removed account \(account.name) (#\(account.id))")
        return .result(["account": .string(account.name), "id": .int(Int64(account.id)), "removed": true])
    }

    func handleLock(_ request: Request) throws(AgentError) -> Reply {
        let passphrase = try request.body.string("passphrase")
        // An empty passphrase is what a closed stdin or a stray Enter gives: refused, so a
        // lock always needs a secret to undo.
        guard !passphrase.isEmpty else { throw AgentError(.badRequest, "field \"passphrase\" must not be empty") }
        guard !lock.isLocked else { throw AgentError(.locked, "the agent is already locked") }
        do throws(Errno) {
            try lock.lock(passphrase: passphrase)
        } catch {
            throw AgentError(.internal, "could not lock: \(error)")
        }
        Log.info("locked")
        return .result(["locked": true])
    }

    /// A wrong passphrase is answered `denied` only after a delay that grows with each
    /// failure (as ssh-agent), to slow guessing; other clients are served meanwhile.
    func handleUnlock(_ request: Request, on connection: Connection) throws(AgentError) -> Reply {
        let passphrase = try request.body.string("passphrase")
        guard lock.isLocked else { throw AgentError(.notLocked, "the agent is not locked") }
        if lock.unlock(passphrase: passphrase) {
            Log.info("unlocked")
            return .result(["locked": false])
        }
        Log.info("failed unlock attempt from pid \(connection.peer.pid)")
        let delay = min(Limits.unlockFailureDelayMilliseconds.saturatingMultiplied(by: lock.failures), Limits.maxUnlockDelayMilliseconds)
        let answer = Response.failure(rpcID: request.rpcID, AgentError(.denied, "wrong passphrase"))
        delayedAnswers.append(DelayedAnswer(connectionID: connection.id, due: clock.monotonicMilliseconds() + delay, response: answer))
        return .deferred
    }

    /// Removes the socket before answering, so that when the client sees the answer no
    /// new client can reach this agent; the loop then ends.
    func handleStop(_ connection: Connection) -> Reply {
        Log.info("stop requested by pid \(connection.peer.pid)")
        removeSocket()
        stopping = true
        connection.closeAfterFlush = true
        return .result(["pid": .int(Int64(ProcessControl.currentPID))])
    }

    func requireUnlocked() throws(AgentError) {
        if lock.isLocked { throw AgentError(.locked, "the agent is locked; unlock it with claude-agent unlock") }
    }
}
