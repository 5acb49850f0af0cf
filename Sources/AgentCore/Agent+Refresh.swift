import AgentPOSIX
import AgentProtocol
import OAuth

/// A client waiting for a token that a refresh in flight will provide.
struct TokenWaiter {
    let connectionID: UInt64
    let rpcID: Int64
    let scopes: [String]
    /// Monotonic milliseconds by which the client must have its answer (`timeout_ms`,
    /// less a margin); nil: it waits for the refresh however long it takes.
    var deadline: Int64?
}

/// What `token.get` asks of a refresh besides a token.
struct TokenDemand {
    /// `"refresh": true`: the client was refused the token it holds; refresh now.
    var force = false
    /// Monotonic milliseconds by which to answer (from `timeout_ms`).
    var deadline: Int64?
}

/// Refresh on demand: exactly one refresh per account in flight; every client asking
/// meanwhile waits for that one result, so a rotated refresh token is never used twice.
extension Agent {
    /// Whether the agent can refresh this account's access token by itself.
    func canRefresh(_ account: Account) -> Bool {
        guard account.token?.refreshToken != nil, let provider = account.provider else { return false }
        return endpoints[provider] != nil
    }

    /// Answers with the account's token, or starts (or joins) its refresh and waits.
    ///
    /// With `demand.force`, a refresh is started even for a token that has not expired
    /// (the client saw it refused), unless one is in flight (joined) or one ended less than
    /// `Limits.forcedRefreshIntervalMilliseconds` ago (its outcome is the answer: many
    /// clients refused at once cause one refresh).
    func serveToken(of account: Account, scopes: [String], rpcID: Int64, on connection: Connection,
                    demand: TokenDemand = TokenDemand()) throws(AgentError) -> Reply {
        let now = clock.unixSeconds()
        let waiter = TokenWaiter(connectionID: connection.id, rpcID: rpcID, scopes: scopes, deadline: demand.deadline)
        if demand.force {
            if refreshWaiters[account.id] != nil {
                addRefreshWaiter(waiter, for: account.id)
                return .deferred
            }
            let recent = account.lastRefreshEndedAt.map {
                clock.monotonicMilliseconds() - $0 < Limits.forcedRefreshIntervalMilliseconds
            } ?? false
            if !recent {
                guard account.token?.refreshToken != nil else {
                    throw AgentError(.loginRequired, "account \(account.name) holds no refresh token, so it cannot be refreshed: "
                                     + "run claude-agent login --account \(account.name), or add a new token")
                }
                guard canRefresh(account) else { throw unavailable(account) }
                startRefresh(of: account)
                addRefreshWaiter(waiter, for: account.id)
                return .deferred
            }
            if let failure = account.lastRefreshFailure { throw failure }
        }
        if let token = account.token, !tokenIsExpired(account, now: now) {
            return .serialized(store.serializedAnswer(accessToken(of: account, token)))
        }
        guard canRefresh(account) else { throw unavailable(account) }
        startRefresh(of: account)
        addRefreshWaiter(waiter, for: account.id)
        return .deferred
    }

    /// The error for an account whose token cannot be handed out or refreshed. "Cannot be
    /// refreshed" is said only of an account that holds no refresh token.
    func unavailable(_ account: Account) -> AgentError {
        guard let token = account.token else {
            let reason = account.lastRefreshError.map { " (\($0))" } ?? ""
            let code: ErrorCode = account.lastRefreshFailure?.code == .rotationLost ? .rotationLost : .loginRequired
            return AgentError(code, "account \(account.name) needs a login\(reason): run claude-agent login --account \(account.name)")
        }
        let when = token.expiresAt.map { " at \(RFC3339.format($0))" } ?? ""
        guard token.refreshToken != nil else {
            let state = token.expiresAt.map { expiry.expiredPhrase($0, now: clock.unixSeconds()) } ?? "expired"
            return AgentError(.expired, "the token of account \(account.name) \(state) and cannot be refreshed: "
                              + "it came without a refresh token")
        }
        let provider = account.provider.map { "provider \"\($0)\" is not configured" } ?? "it names no provider to refresh it with"
        return AgentError(.expired, "the token of account \(account.name) expired\(when) and holds a refresh token, but \(provider)")
    }

    /// Starts a refresh unless one is already in flight for the account. For an account
    /// tied to a credentials file the job first looks at the file (see `RefreshJob`).
    func startRefresh(of account: Account) {
        guard refreshWaiters[account.id] == nil, let token = account.token, let refreshToken = token.refreshToken,
              let provider = account.provider, let endpoint = endpoints[provider]
        else { return }
        refreshWaiters[account.id] = []
        refreshesStarted += 1
        Log.info("refreshing account \(account.name) (#\(account.id))")
        let file = account.sourcePath.map {
            TiedFile(path: $0, persist: account.persistPath == $0, knownStamp: account.sourceStamp)
        }
        let job = RefreshJob(refreshToken: refreshToken, accessToken: token.accessToken, scopes: token.scopes,
                             refreshTokenExpiresAt: token.refreshTokenExpiresAt, endpoint: endpoint, file: file, clock: clock)
        let id = account.id
        let generation = account.generation
        worker.submit { .refreshed(accountID: id, generation: generation, job.run()) }
    }

    /// Applies a refresh's outcome and answers everyone who waited for it. A token fresh
    /// from the provider is handed to them whatever its lifetime: they waited for it.
    func finishRefresh(accountID: UInt32, generation: UInt64, _ result: Result<RefreshOutcome, OAuthError>) {
        let waiters = refreshWaiters.removeValue(forKey: accountID) ?? []
        var failure: AgentError?
        var fresh: HeldToken?
        let ended = clock.monotonicMilliseconds()
        if let account = store.account(id: accountID), account.generation == generation {
            let now = clock.unixSeconds()
            switch result {
            case .success(.granted(let grant, let stamp, let writeError)):
                let old = account.token
                // A refresh response may omit the refresh token: keep the one we have.
                // A kept refresh token keeps its expiry; a new one has the answer's (or none).
                let token = HeldToken(accessToken: grant.accessToken, refreshToken: grant.refreshToken ?? old?.refreshToken,
                                      expiresAt: grant.expiresAt, tokenType: grant.tokenType,
                                      scopes: grant.scopes ?? old?.scopes ?? account.scopes,
                                      refreshTokenExpiresAt: grant.refreshToken == nil ? old?.refreshTokenExpiresAt : grant.refreshTokenExpiresAt)
                if !grant.oddities.isEmpty {
                    Log.info("account \(account.name) (#\(accountID)): the provider's answer was odd, kept anyway: "
                             + grant.oddities.joined(separator: "; "))
                }
                adopt(token, for: accountID, obtainedAt: now, ended: ended, stamp: stamp)
                store.update(accountID) { held in
                    if grant.refreshToken != nil { held.refreshExpiryWarned = false }
                    held.profile = grant.profile ?? held.profile
                }
                fresh = token
                Log.info("refreshed account \(account.name) (#\(accountID)): token \(token.fingerprint)")
                if let refreshed = store.account(id: accountID) { warnOfRefreshExpiry(refreshed, now: now) }
                if let writeError { Log.info("could not write account \(account.name) back: \(writeError)") }
            case .success(.adopted(let credentials, let stamp)):
                let token = HeldToken(accessToken: credentials.accessToken, refreshToken: credentials.refreshToken,
                                      expiresAt: credentials.expiresAt, tokenType: "Bearer",
                                      scopes: credentials.scopes.isEmpty ? account.scopes : credentials.scopes,
                                      refreshTokenExpiresAt: credentials.refreshTokenExpiresAt)
                adopt(token, for: accountID, obtainedAt: nil, ended: ended, stamp: stamp)
                Log.info("account \(account.name) (#\(accountID)): adopted newer tokens another tool wrote to "
                         + "\(account.sourcePath ?? "its file"): token \(token.fingerprint)")
                if let adopted = store.account(id: accountID), tokenIsExpired(adopted, now: now), canRefresh(adopted) {
                    // The other tool's access token is stale too: refresh with its refresh token.
                    startRefresh(of: adopted)
                    refreshWaiters[accountID, default: []].append(contentsOf: waiters)
                    return
                }
                fresh = token
            case .failure(let error) where error.kind == .invalidGrant:
                let lost = account.refreshTokenMayBeSpent
                let rejected = lost
                    ? AgentError(.rotationLost, "the refresh token of account \(account.name) was rejected (\(error.code ?? "invalid_grant")) "
                                 + "after an earlier refresh with it got no answer: the provider rotated it and the new one was lost. "
                                 + "Run claude-agent login --account \(account.name)")
                    : AgentError(.loginRequired, "the refresh token of account \(account.name) was rejected (\(error.code ?? "invalid_grant")): "
                                 + "run claude-agent login --account \(account.name)")
                failure = rejected
                store.noteRefreshFailure(of: accountID, rejected,
                                         reason: lost ? "rotation lost: \(error.message)" : "refresh token rejected: \(error.message)",
                                         dropTokens: true, mayHaveArrived: false, endedAt: ended, now: now)
                Log.info("account \(account.name) (#\(accountID)) needs a login: \(lost ? "rotation lost: " : "")\(error.message)")
            case .failure(let error):
                let failed = AgentError(.refreshFailed, "refreshing account \(account.name) failed: \(error.message)")
                failure = failed
                store.noteRefreshFailure(of: accountID, failed, reason: error.message, dropTokens: false,
                                         mayHaveArrived: error.mayHaveArrived, endedAt: ended, now: now)
                Log.info("refreshing account \(account.name) (#\(accountID)) failed: \(error.message)")
            }
        }
        for waiter in waiters {
            guard let connection = connections[waiter.connectionID] else { continue }
            answerDeferred(connection, tokenAnswer(accountID: accountID, waiter: waiter, failure: failure, fresh: fresh))
        }
        finishRefreshApprovals(accountID: accountID, failure: failure)
    }

    /// Holds `token` as the account's new token: from the provider just `now`
    /// (`obtainedAt`), or nil when it was found in a file (its grant was not seen).
    private func adopt(_ token: HeldToken, for accountID: UInt32, obtainedAt: Int64?, ended: Int64, stamp: FileStamp?) {
        store.holdRefreshed(token, for: accountID, obtainedAt: obtainedAt, refreshEndedAt: ended, now: clock.unixSeconds())
        if let stamp { store.update(accountID) { $0.sourceStamp = stamp } }
    }

    /// What a waiter gets once the refresh it waited for is over: `fresh`, the token that
    /// refresh produced, whatever its remaining life; else the account's token if usable.
    func tokenAnswer(accountID: UInt32, waiter: TokenWaiter, failure: AgentError?, fresh: HeldToken? = nil) -> JSONValue {
        if let failure { return Response.failure(rpcID: waiter.rpcID, failure) }
        guard let account = store.account(id: accountID) else {
            return Response.failure(rpcID: waiter.rpcID, AgentError(.notFound, "account #\(accountID) was removed"))
        }
        guard let token = fresh ?? account.token, fresh != nil || !tokenIsExpired(account, now: clock.unixSeconds()) else {
            return Response.failure(rpcID: waiter.rpcID, unavailable(account))
        }
        guard Scopes.cover(token.scopes, waiter.scopes) else {
            return Response.failure(rpcID: waiter.rpcID, AgentError(.noToken, "account \(account.name) now holds scopes [\(Scopes.joined(token.scopes))], which do not cover [\(Scopes.joined(waiter.scopes))]"))
        }
        return Response.success(rpcID: waiter.rpcID, accessToken(of: account, token).json)
    }

    /// Adds a client to those waiting for the account's refresh, noting its deadline.
    func addRefreshWaiter(_ waiter: TokenWaiter, for accountID: UInt32) {
        refreshWaiters[accountID, default: []].append(waiter)
        if let deadline = waiter.deadline { nextRefreshWaiterDeadline = min(nextRefreshWaiterDeadline ?? .max, deadline) }
    }

    /// Answers `timeout` to clients whose deadline (`timeout_ms`) comes before their
    /// refresh ends; the refresh goes on, and its outcome is kept for the next request.
    /// Walks the waiters only once the earliest deadline noted has come, so a thousand
    /// clients waiting on one refresh cost nothing per turn of the loop.
    func expireRefreshWaiters(monotonic now: Int64) {
        guard let due = nextRefreshWaiterDeadline, due <= now else { return }
        defer { nextRefreshWaiterDeadline = refreshWaiters.values.lazy.flatMap { $0 }.compactMap(\.deadline).min() }
        for (accountID, waiters) in refreshWaiters where waiters.contains(where: { ($0.deadline ?? .max) <= now }) {
            refreshWaiters[accountID] = waiters.filter { ($0.deadline ?? .max) > now }
            let name = store.account(id: accountID)?.name ?? "#\(accountID)"
            for waiter in waiters where (waiter.deadline ?? .max) <= now {
                guard let connection = connections[waiter.connectionID] else { continue }
                let error = AgentError(.timeout, "refreshing account \(name) did not finish before the client's deadline "
                                       + "(timeout_ms): the provider has not answered yet. The refresh goes on; "
                                       + "the next request gets its result")
                answerDeferred(connection, Response.failure(rpcID: waiter.rpcID, error))
            }
        }
    }

    /// Starts the refreshes that are due ahead of expiry. A due time stays until the
    /// refresh ends, which sets the next one (see `TokenStore`): after a failure, a retry.
    func refreshAheadIfDue(now: Int64) {
        for account in store.accounts {
            if let due = account.refreshAheadAt, due <= now, canRefresh(account), refreshWaiters[account.id] == nil {
                startRefresh(of: account)
            }
        }
    }

    /// Drops the waiters of a closed connection; the refresh itself goes on.
    func dropWaiters(of connection: Connection) {
        for (accountID, waiters) in refreshWaiters {
            refreshWaiters[accountID] = waiters.filter { $0.connectionID != connection.id }
        }
    }

    /// Applies the results of finished background work.
    func drainWorker() {
        for completion in worker.drain() {
            switch completion {
            case .refreshed(let accountID, let generation, let result):
                finishRefresh(accountID: accountID, generation: generation, result)
            case .exchanged(let login, let result):
                finishLogin(login, result)
            case .revoked(let connectionID, let rpcID, let name, let id, let result):
                finishLogout(connectionID: connectionID, rpcID: rpcID, account: name, accountID: id, result)
            case .controlBrowserOpened(let connectionID, let rpcID, let approvalID, let state, let result):
                finishControlBrowser(connectionID: connectionID, rpcID: rpcID, approvalID: approvalID, state: state, result)
            }
        }
    }
}
