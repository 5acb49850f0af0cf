import AgentPOSIX
import AgentProtocol
import OAuth

/// A client waiting for a token that a refresh in flight will provide.
struct TokenWaiter {
    let connectionID: UInt64
    let requestID: Int64
    let scopes: [String]
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
    func serveToken(of account: Account, scopes: [String], requestID: Int64, on connection: Connection) throws(AgentError) -> Reply {
        let now = Clock.unixSeconds()
        if let token = account.token, !token.isExpired(at: now, skew: configuration.expirySkew) {
            return .serialized(serializedAccessToken(accessToken(of: account, token)))
        }
        guard canRefresh(account) else { throw unavailable(account) }
        startRefresh(of: account)
        refreshWaiters[account.id, default: []].append(TokenWaiter(connectionID: connection.id, requestID: requestID, scopes: scopes))
        return .deferred
    }

    /// The token's JSON, serialized once per token: the same answer goes to every client
    /// until the token, its account's name or its scopes change. Parsing and serializing
    /// were most of a cached `token.get`'s cost (see BENCHMARKS.md).
    func serializedAccessToken(_ token: AccessToken) -> [UInt8] {
        if let cached = servedTokens[token.accountID], cached.token == token { return cached.json }
        let json = JSONValue.object(token.json).serialized()
        servedTokens[token.accountID] = (token, json)
        return json
    }

    /// The error for an account whose token cannot be handed out or refreshed.
    func unavailable(_ account: Account) -> AgentError {
        guard let token = account.token else {
            let reason = account.lastRefreshError.map { " (\($0))" } ?? ""
            return AgentError(.loginRequired, "account \(account.name) needs a login\(reason): run claude-agent login --account \(account.name)")
        }
        let when = token.expiresAt.map { " at \(RFC3339.format($0))" } ?? ""
        return AgentError(.expired, "the token of account \(account.name) expired\(when) and cannot be refreshed")
    }

    /// Starts a refresh unless one is already in flight for the account.
    func startRefresh(of account: Account) {
        guard refreshWaiters[account.id] == nil, let refreshToken = account.token?.refreshToken,
              let provider = account.provider, let endpoint = endpoints[provider]
        else { return }
        refreshWaiters[account.id] = []
        refreshesStarted += 1
        Log.info("refreshing account \(account.name) (#\(account.id))")
        let id = account.id
        let generation = account.generation
        worker.submit {
            .refreshed(accountID: id, generation: generation, Result { () throws(OAuthError) in
                try endpoint.refresh(refreshToken: refreshToken, scopes: nil, now: Clock.unixSeconds)
            })
        }
    }

    /// Applies a refresh's outcome and answers everyone who waited for it.
    func finishRefresh(accountID: UInt32, generation: UInt64, _ result: Result<TokenGrant, OAuthError>) {
        let waiters = refreshWaiters.removeValue(forKey: accountID) ?? []
        var failure: AgentError?
        if let account = store.account(id: accountID), account.generation == generation {
            switch result {
            case .success(let grant):
                store.update(accountID) { account in
                    let old = account.token
                    // A refresh response may omit the refresh token: keep the one we have.
                    // A kept refresh token keeps its expiry; a new one has the answer's (or none).
                    let refreshTokenExpiresAt = grant.refreshToken == nil ? old?.refreshTokenExpiresAt : grant.refreshTokenExpiresAt
                    let token = HeldToken(accessToken: grant.accessToken, refreshToken: grant.refreshToken ?? old?.refreshToken,
                                          expiresAt: grant.expiresAt, tokenType: grant.tokenType,
                                          scopes: grant.scopes ?? old?.scopes ?? account.scopes,
                                          refreshTokenExpiresAt: refreshTokenExpiresAt)
                    if grant.refreshToken != nil { account.refreshExpiryWarned = false }
                    account.profile = grant.profile ?? account.profile
                    account.token = token
                    account.scopes = token.scopes
                    account.lastRefreshError = nil
                    account.refreshAheadAt = refreshAheadTime(for: token)
                }
                if let account = store.account(id: accountID), let token = account.token {
                    Log.info("refreshed account \(account.name) (#\(accountID)): token \(token.fingerprint)")
                    warnOfRefreshExpiry(account, now: Clock.unixSeconds())
                    writeBack(account)
                }
            case .failure(let error) where error.kind == .invalidGrant:
                store.update(accountID) { account in
                    account.token = nil
                    account.lastRefreshError = "refresh token rejected: \(error.message)"
                    account.refreshAheadAt = nil
                }
                servedTokens[accountID] = nil
                Log.info("account \(account.name) (#\(accountID)) needs a login: \(error.message)")
                failure = AgentError(.loginRequired, "the refresh token of account \(account.name) was rejected (\(error.code ?? "invalid_grant")): run claude-agent login --account \(account.name)")
            case .failure(let error):
                store.update(accountID) { account in
                    account.lastRefreshError = error.message
                    account.refreshAheadAt = account.refreshAheadAt.map { _ in Clock.unixSeconds() + 30 }
                }
                Log.info("refreshing account \(account.name) (#\(accountID)) failed: \(error.message)")
                failure = AgentError(.refreshFailed, "refreshing account \(account.name) failed: \(error.message)")
            }
        }
        for waiter in waiters {
            guard let connection = connections[waiter.connectionID] else { continue }
            answerDeferred(connection, tokenAnswer(accountID: accountID, waiter: waiter, failure: failure))
        }
        finishRefreshApprovals(accountID: accountID, failure: failure)
    }

    /// What a waiter gets once the refresh it waited for is over.
    func tokenAnswer(accountID: UInt32, waiter: TokenWaiter, failure: AgentError?) -> JSONValue {
        if let failure { return Response.failure(id: waiter.requestID, failure) }
        guard let account = store.account(id: accountID) else {
            return Response.failure(id: waiter.requestID, AgentError(.notFound, "account #\(accountID) was removed"))
        }
        guard let token = account.token, !token.isExpired(at: Clock.unixSeconds(), skew: configuration.expirySkew) else {
            return Response.failure(id: waiter.requestID, unavailable(account))
        }
        guard Scopes.cover(token.scopes, waiter.scopes) else {
            return Response.failure(id: waiter.requestID, AgentError(.noToken, "account \(account.name) now holds scopes [\(Scopes.joined(token.scopes))], which do not cover [\(Scopes.joined(waiter.scopes))]"))
        }
        return Response.success(id: waiter.requestID, accessToken(of: account, token).json)
    }

    /// With `--refresh-ahead`: once about 2/3 of a token's life is used, less a random
    /// jitter of up to a tenth of it (Vault Agent's rule), so callers rarely wait and many
    /// agents do not refresh in step.
    func refreshAheadTime(for token: HeldToken) -> Int64? {
        guard configuration.refreshAhead, token.refreshToken != nil, let expiresAt = token.expiresAt else { return nil }
        let now = Clock.unixSeconds()
        let life = max(0, expiresAt - now)
        let jitter = life >= 10 ? Int64((try? RandomBytes.uniform(below: UInt64(life / 10))) ?? 0) : 0
        return now + life * 2 / 3 - jitter
    }

    /// Starts the refreshes that are due ahead of expiry.
    func refreshAheadIfDue(now: Int64) {
        for account in store.accounts {
            if let due = account.refreshAheadAt, due <= now, canRefresh(account), refreshWaiters[account.id] == nil {
                store.update(account.id) { $0.refreshAheadAt = nil }
                startRefresh(of: account)
            }
        }
    }

    /// Writes rotated tokens back to the account's credentials file (`--persist`), keeping
    /// every other field of the file as it was.
    func writeBack(_ account: Account) {
        guard let path = account.persistPath, let token = account.token else { return }
        let credentials = StoredCredentials(accessToken: token.accessToken, refreshToken: token.refreshToken,
                                            expiresAt: token.expiresAt, scopes: token.scopes,
                                            refreshTokenExpiresAt: token.refreshTokenExpiresAt)
        do throws(CredentialsFileError) {
            try CredentialsFile.update(path: path, with: credentials)
        } catch {
            Log.info("could not write account \(account.name) back to \(path): \(error)")
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
            case .revoked(let connectionID, let requestID, let name, let id, let result):
                finishLogout(connectionID: connectionID, requestID: requestID, account: name, accountID: id, result)
            case .controlBrowserOpened(let connectionID, let rpcID, let requestID, let state, let result):
                finishControlBrowser(connectionID: connectionID, rpcID: rpcID, requestID: requestID, state: state, result)
            }
        }
    }
}
