import AgentCrypto
import AgentPOSIX
import AgentProtocol
import OAuth

/// A login the agent started: the PKCE verifier and the single-use `state` that ties the
/// provider's callback to it.
struct PendingLogin: Sendable {
    let state: String
    let verifier: String
    let account: String
    let accountID: UInt32?
    let provider: String
    let redirectURI: String
    let scopes: [String]
    /// Monotonic milliseconds after which the state is refused.
    let expiresAt: Int64
    /// The token request this authorization approves, when it is one (not a `login`).
    var approvalID: String?
    /// The `oauth.callback` waiting for the code exchange.
    var callbackConnectionID: UInt64 = 0
    var callbackRPCID: Int64 = 0
}

/// `login.start`, `oauth.callback`, `account.logout` and `account.import`.
extension Agent {
    func handleLoginStart(_ request: Request) throws(AgentError) -> Reply {
        try requireUnlocked()
        let body = request.body
        let name = try body.optionalString("account") ?? AccountName.defaultName
        if let problem = AccountName.problem(with: name) { throw AgentError(.badRequest, problem) }
        let accountID = try optionalAccountID(body)
        let providerName = try body.optionalString("provider") ?? settings.defaultProvider
        guard let provider = settings.provider(named: providerName) else {
            throw AgentError(.notFound, "no provider \"\(providerName)\" is configured")
        }
        let (redirectURI, paste) = try redirect(for: provider, offered: try body.optionalString("redirect_uri"), fallback: nil,
                                                manual: try body.optionalBool("manual") ?? false)
        let scopes = try body.scopes() ?? provider.scopes
        expirePendingLogins()
        guard pendingLogins.count < Limits.maxPendingLogins else {
            throw AgentError(.tooManyRequests, "\(Limits.maxPendingLogins) logins are already pending")
        }
        let (state, pkce) = try makeAuthorizationSecrets()
        let login = PendingLogin(state: state, verifier: pkce.verifier, account: name, accountID: accountID,
                                 provider: providerName, redirectURI: redirectURI, scopes: scopes,
                                 expiresAt: clock.monotonicMilliseconds() + Limits.loginTimeoutMilliseconds)
        pendingLogins[state] = login
        let authorize = AuthorizeRequest(authorizationEndpoint: provider.authorizationEndpoint, clientID: provider.clientID,
                                         redirectURI: redirectURI, scopes: scopes, state: state,
                                         codeChallenge: pkce.challenge, extraParameters: provider.extraAuthorizeParameters)
        Log.info("login started for account \(name) with provider \(providerName)")
        return .result([
            "account": .string(name),
            "provider": .string(providerName),
            "authorize_url": .string(authorize.url),
            "redirect_uri": .string(redirectURI),
            "state": .string(state),
            "paste": .bool(paste),
            "expires_at": .string(RFC3339.format(clock.unixSeconds() + Limits.loginTimeoutMilliseconds / 1000)),
        ])
    }

    /// The provider's redirect, relayed by the CLI's loopback listener, a pasted code, or
    /// the bridge. An unknown, used or expired state is refused and changes nothing.
    func handleOAuthCallback(_ request: Request, on connection: Connection) throws(AgentError) -> Reply {
        let body = request.body
        let state = try body.string("state")
        let code = try body.optionalString("code")
        let providerError = try body.optionalString("error")
        expirePendingLogins()
        guard var login = pendingLogins[state] else {
            throw AgentError(.invalidState, "unknown, used or expired state: no login or request is waiting for it")
        }
        if let providerError {
            pendingLogins[state] = nil
            let description = try body.optionalString("error_description").map { ": \($0)" } ?? ""
            Log.info("login for account \(login.account) refused by the provider: \(providerError)")
            let denied = providerError == "access_denied"
            if let id = login.approvalID {
                _ = try? moveApproval(id, to: denied ? .denied : .error) { $0.error = "the provider answered \(providerError)\(description)" }
            }
            throw AgentError(denied ? .denied : .loginFailed, "the provider answered \(providerError)\(description)")
        }
        guard let code, !code.isEmpty else { throw AgentError(.badRequest, "field \"code\" (or \"error\") must be present") }
        guard let endpoint = endpoints[login.provider] else {
            throw AgentError(.internal, "provider \(login.provider) is no longer configured")
        }
        pendingLogins[state] = nil
        login.callbackConnectionID = connection.id
        login.callbackRPCID = request.rpcID
        let pending = login
        let clock = clock
        worker.submit {
            .exchanged(login: pending, Result { () throws(OAuthError) in
                try endpoint.exchange(code: code, codeVerifier: pending.verifier, redirectURI: pending.redirectURI,
                                      state: pending.state, now: { clock.unixSeconds() })
            })
        }
        return .deferred
    }

    func finishLogin(_ login: PendingLogin, _ result: Result<AccessTokenResponse, OAuthError>) {
        let answer: JSONValue
        switch result {
        case .success(let grant):
            let now = clock.unixSeconds()
            let token = HeldToken(accessToken: grant.accessToken, refreshToken: grant.refreshToken, expiresAt: grant.expiresAt,
                                  tokenType: grant.tokenType, scopes: grant.scopes ?? login.scopes,
                                  refreshTokenExpiresAt: grant.refreshTokenExpiresAt)
            do throws(AgentError) {
                // Fresh from the provider: its lifetime is known (see `ExpiryRule`).
                let account = try store.store(name: login.account, requestedID: login.accountID, provider: login.provider,
                                              token: token, obtainedAt: now,
                                              forgetAt: configuration.defaultLifetimeSeconds.map { now.saturatingAdding($0) }, now: now)
                store.update(account.id) {
                    $0.profile = grant.profile ?? $0.profile
                    $0.refreshExpiryWarned = false
                }
                Log.info("logged in account \(account.name) (#\(account.id)), token \(token.fingerprint)")
                if let stored = store.account(id: account.id) { warnOfRefreshExpiry(stored, now: now) }
                if let id = login.approvalID {
                    let approved = try moveApproval(id, to: .approved) { $0.token = self.accessToken(of: account, token) }
                    answer = Response.success(rpcID: login.callbackRPCID, approved.json(includingToken: false))
                } else {
                    answer = Response.success(rpcID: login.callbackRPCID, summary(of: account, now: now).json)
                }
            } catch {
                answer = Response.failure(rpcID: login.callbackRPCID, error)
            }
        case .failure(let error):
            Log.info("login for account \(login.account) failed: \(error.message)")
            if let id = login.approvalID {
                _ = try? moveApproval(id, to: .error) { $0.error = "exchanging the code failed: \(error.message)" }
            }
            answer = Response.failure(rpcID: login.callbackRPCID, AgentError(.loginFailed, "exchanging the code failed: \(error.message)"))
        }
        if let connection = connections[login.callbackConnectionID] { answerDeferred(connection, answer) }
    }

    /// Drops logins past their time, and authorizations their request no longer uses (it
    /// ended, or another account was selected since).
    /// A fresh single-use `state` and PKCE verifier for one authorization, each of
    /// `POSIXLimits.secretRandomBytes` random bytes.
    func makeAuthorizationSecrets() throws(AgentError) -> (state: String, pkce: PKCE) {
        do {
            let state = Base64URL.encode(try RandomBytes.generate(POSIXLimits.secretRandomBytes))
            return (state, try PKCE(randomBytes: try RandomBytes.generate(POSIXLimits.secretRandomBytes)))
        } catch {
            throw AgentError(.internal, "could not make authorization secrets: \(error)")
        }
    }

    func expirePendingLogins() {
        let now = clock.monotonicMilliseconds()
        pendingLogins = pendingLogins.filter { state, login in
            guard login.expiresAt > now else { return false }
            guard let id = login.approvalID else { return true }
            return approvals[id]?.authorizationState == state
        }
    }

    /// Forgets the account at once (no token is handed out from then on), then revokes
    /// its refresh token at the provider when it can; a failed revocation is reported,
    /// not fatal.
    func handleLogout(_ request: Request, on connection: Connection) throws(AgentError) -> Reply {
        try requireUnlocked()
        let reference = try request.body.account()
        let revoke = try request.body.optionalBool("revoke") ?? true
        guard let account = store.remove(reference) else { throw AgentError(.notFound, "no account \(reference)") }
        Log.info("logged out account \(account.name) (#\(account.id))")
        if let waiters = refreshWaiters.removeValue(forKey: account.id) {
            for waiter in waiters {
                guard let waiting = connections[waiter.connectionID] else { continue }
                answerDeferred(waiting, Response.failure(rpcID: waiter.rpcID, AgentError(.notFound, "account \(account.name) was logged out")))
            }
        }
        var persistError: String?
        if let path = account.persistPath {
            do throws(CredentialsFileError) {
                try CredentialsFile.removeCredentials(path: path)
            } catch {
                persistError = error.description
            }
        }
        var result: JSONObject = ["account": .string(account.name), "id": .int(Int64(account.id)), "revoked": false]
        if let persistError { result["file_error"] = .string(persistError) }
        guard revoke, let refreshToken = account.token?.refreshToken else {
            result["revocation"] = .string(revoke ? "no refresh token held" : "not requested")
            return .result(result)
        }
        guard let provider = account.provider, let endpoint = endpoints[provider],
              settings.provider(named: provider)?.revocationEndpoint != nil
        else {
            result["revocation"] = .string("the provider has no revocation endpoint")
            return .result(result)
        }
        let connectionID = connection.id
        let rpcID = request.rpcID
        let name = account.name
        let id = account.id
        worker.submit {
            .revoked(connectionID: connectionID, rpcID: rpcID, account: name, accountID: id, Result { () throws(OAuthError) in
                try endpoint.revoke(token: refreshToken, hint: "refresh_token")
            })
        }
        return .deferred
    }

    func finishLogout(connectionID: UInt64, rpcID: Int64, account: String, accountID: UInt32, _ result: Result<Void, OAuthError>) {
        var answer: JSONObject = ["account": .string(account), "id": .int(Int64(accountID))]
        switch result {
        case .success:
            answer["revoked"] = true
        case .failure(let error):
            Log.info("revoking the refresh token of \(account) failed: \(error.message)")
            answer["revoked"] = false
            answer["revocation"] = .string("failed: \(error.message)")
        }
        if let connection = connections[connectionID] { answerDeferred(connection, Response.success(rpcID: rpcID, answer)) }
    }

    /// Imports a credentials file (Claude Code's or the seed CLI's dialect); with `persist`
    /// rotated tokens are written back to it.
    func handleImport(_ request: Request) throws(AgentError) -> Reply {
        try requireUnlocked()
        let body = request.body
        let path = try body.string("path")
        let name = try body.optionalString("account") ?? AccountName.defaultName
        if let problem = AccountName.problem(with: name) { throw AgentError(.badRequest, problem) }
        let persist = try body.optionalBool("persist") ?? false
        let provider = try body.optionalString("provider") ?? settings.defaultProvider
        guard settings.provider(named: provider) != nil else { throw AgentError(.notFound, "no provider \"\(provider)\" is configured") }
        let account = try importCredentials(path: path, account: name, accountID: try optionalAccountID(body),
                                            provider: provider, persist: persist)
        return .result(summary(of: account, now: clock.unixSeconds()).json)
    }

    /// The account stays tied to the file: before each refresh, and after an
    /// `invalid_grant`, the agent looks at it again and adopts a newer pair another tool
    /// wrote there (see `RefreshJob`).
    func importCredentials(path: String, account name: String, accountID: UInt32?, provider: String, persist: Bool) throws(AgentError) -> Account {
        let file: CredentialsFile
        // The stamp first: a change between it and the read is seen at the next look.
        let stamp = try? FileSystem.stamp(path)
        do throws(CredentialsFileError) {
            file = try CredentialsFile.read(path: path)
        } catch {
            throw AgentError(.badRequest, "cannot import \(error)")
        }
        let stored = file.credentials
        let now = clock.unixSeconds()
        let token = HeldToken(accessToken: stored.accessToken, refreshToken: stored.refreshToken, expiresAt: stored.expiresAt,
                              tokenType: "Bearer", scopes: stored.scopes, refreshTokenExpiresAt: stored.refreshTokenExpiresAt)
        try refuseDeadOnArrival(token, account: name, now: now)
        let account = try store.store(name: name, requestedID: accountID, provider: provider, token: token,
                                      forgetAt: configuration.defaultLifetimeSeconds.map { now.saturatingAdding($0) }, now: now)
        store.update(account.id) {
            $0.persistPath = persist ? path : nil
            $0.sourcePath = path
            $0.sourceStamp = stamp
        }
        Log.info("imported account \(name) (#\(account.id)) from \(path) (\(file.dialect.rawValue)), token \(token.fingerprint)")
        let imported = store.account(id: account.id) ?? account
        warnOfRefreshExpiry(imported, now: now)
        return imported
    }

    func optionalAccountID(_ body: JSONObject) throws(AgentError) -> UInt32? {
        guard let id = try body.optionalInt("account_id") else { return nil }
        guard let valid = UInt32(exactly: id) else { throw AgentError(.badRequest, "field \"account_id\" must be from 0 to 4294967295") }
        return valid
    }
}

/// Where a provider's redirect goes: one rule for logins and approvals.
extension Agent {
    /// `provider.get`: a provider as a client needs it to serve the redirect (never its
    /// secret): the one named, else the account's, else the default.
    func handleProviderGet(_ request: Request) throws(AgentError) -> Reply {
        let body = request.body
        let name: String
        if let given = try body.optionalString("provider") {
            name = given
        } else if let reference = try body.optionalAccount(), let held = store.account(reference)?.provider {
            name = held
        } else {
            name = settings.defaultProvider
        }
        guard let provider = settings.provider(named: name) else {
            throw AgentError(.notFound, "no provider \"\(name)\" is configured")
        }
        return .result([
            "provider": .string(name),
            "redirect_uri": provider.redirectURI.map(JSONValue.string) ?? .null,
            "paste": .bool(provider.redirectURI.map { LoopbackRedirect($0) == nil } ?? false),
            // The provider's code page, for a browser on another machine (Claude's shows
            // code#state); the client then asks login.start for `manual`.
            "manual_redirect_uri": provider.manualRedirectURI.map(JSONValue.string) ?? .null,
            "scopes": .array(provider.scopes.map(JSONValue.string)),
            // Where the provider's tokens are used: the endpoint's default upstream.
            "api_url": provider.apiURL.map(JSONValue.string) ?? .null,
        ])
    }

    /// The redirect URI an authorization carries, so that it is always one something we
    /// run serves:
    /// - a configured URI that is not loopback is the provider's own page showing a code
    ///   to paste (`paste`), whatever was offered;
    /// - a configured loopback URI is served by the client that offers it (same host and
    ///   path; the same port when it names one, else the client's free port), or, offered
    ///   nothing, by whoever listens on its port;
    /// - with none configured, the client's offered loopback URI (RFC 8252 §7.3);
    /// - offered nothing, `fallback` (the bridge's callback, for approvals) when it fits.
    /// - `manual` (the browser is on another machine): the provider's code page
    ///   (`manual_redirect_uri`) when it has one; otherwise as above, and the user pastes
    ///   the URL the browser ends on.
    /// - A configured loopback URI without a port, offered nothing, takes the fallback's
    ///   port in the configured form (Claude registers `http://localhost:<port>/callback`;
    ///   the bridge serves that path too).
    /// - Throws: `bad_request` when the offered URI is not loopback or does not fit the
    ///   configured one, or nothing fits.
    func redirect(for provider: ProviderConfiguration, offered: String?, fallback: String?,
                  manual: Bool = false) throws(AgentError) -> (uri: String, paste: Bool) {
        if manual, let page = provider.manualRedirectURI { return (page, true) }
        let configured = provider.redirectURI
        if let configured, LoopbackRedirect(configured) == nil { return (configured, true) }
        if let offered {
            guard let uri = LoopbackRedirect(offered), uri.port != nil else {
                throw AgentError(.badRequest, "redirect_uri must be a loopback http URI such as http://127.0.0.1:PORT/oauth/callback (RFC 8252)")
            }
            if let configured, let fixed = LoopbackRedirect(configured) {
                guard fixed.admits(uri) else {
                    throw AgentError(.badRequest, "redirect_uri \(offered) does not fit provider \(provider.name)'s configured \(configured): listen on its host, port and path")
                }
                // The provider registered the configured text; send it as written.
                if fixed.port != nil { return (configured, false) }
            }
            return (offered, false)
        }
        if let configured, let fixed = LoopbackRedirect(configured) {
            if fixed.port != nil { return (configured, false) }
            if let fallback, let uri = LoopbackRedirect(fallback), fixed.admits(uri) { return (fallback, false) }
            if let fallback, let port = LoopbackRedirect(fallback)?.port { return (fixed.uri(port: port), false) }
            throw AgentError(.badRequest, "field \"redirect_uri\" is required: provider \(provider.name)'s redirect \(configured) names no port")
        }
        if let fallback { return (fallback, false) }
        throw AgentError(.badRequest, "field \"redirect_uri\" is required: provider \(provider.name) has no fixed redirect URI")
    }
}
