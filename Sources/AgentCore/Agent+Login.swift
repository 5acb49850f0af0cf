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
    var requestID: String?
    /// The `oauth.callback` waiting for the code exchange.
    var callbackConnectionID: UInt64 = 0
    var callbackRequestID: Int64 = 0
}

/// `login.start`, `oauth.callback`, `account.logout` and `account.import`.
extension Agent {
    func handleLoginStart(_ request: Request) throws(AgentError) -> Reply {
        try requireUnlocked()
        let body = request.body
        let name = try body.optionalString("account") ?? "default"
        if let problem = AccountName.problem(with: name) { throw AgentError(.badRequest, problem) }
        let accountID = try optionalAccountID(body)
        let providerName = try body.optionalString("provider") ?? settings.defaultProvider
        guard let provider = settings.provider(named: providerName) else {
            throw AgentError(.notFound, "no provider \"\(providerName)\" is configured")
        }
        let redirect = try chooseRedirect(provider, body: body, fallback: nil)
        let redirectURI = redirect.uri
        let scopes = try body.scopes() ?? provider.scopes
        expirePendingLogins()
        guard pendingLogins.count < Limits.maxPendingLogins else {
            throw AgentError(.tooManyRequests, "\(Limits.maxPendingLogins) logins are already pending")
        }
        let (state, pkce) = try makeAuthorizationSecrets()
        let login = PendingLogin(state: state, verifier: pkce.verifier, account: name, accountID: accountID,
                                 provider: providerName, redirectURI: redirectURI, scopes: scopes,
                                 expiresAt: Clock.monotonicMilliseconds() + Limits.loginTimeoutMilliseconds)
        pendingLogins[state] = login
        let authorize = AuthorizeRequest(authorizeEndpoint: provider.authorizeURL, clientID: provider.clientID,
                                         redirectURI: redirectURI, scopes: scopes, state: state,
                                         codeChallenge: pkce.challenge, extraParameters: provider.extraAuthorizeParameters)
        Log.info("login started for account \(name) with provider \(providerName)")
        return .result([
            "account": .string(name),
            "provider": .string(providerName),
            "authorize_url": .string(authorize.url),
            "redirect_uri": .string(redirectURI),
            "listen": redirect.listenPort.map { port in
                .object(["host": .string(redirect.listenHost ?? "127.0.0.1"), "port": .int(Int64(port)),
                         "path": .string(redirect.listenPath ?? "/")])
            } ?? .null,
            "state": .string(state),
            "paste": .bool(redirect.paste),
            "expires_at": .string(RFC3339.format(Clock.unixSeconds() + Limits.loginTimeoutMilliseconds / 1000)),
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
            if let id = login.requestID {
                _ = try? moveRequest(id, to: denied ? .denied : .error) { $0.error = "the provider answered \(providerError)\(description)" }
            }
            throw AgentError(denied ? .denied : .loginFailed, "the provider answered \(providerError)\(description)")
        }
        guard let code, !code.isEmpty else { throw AgentError(.badRequest, "field \"code\" (or \"error\") must be present") }
        guard let endpoint = endpoints[login.provider] else {
            throw AgentError(.internal, "provider \(login.provider) is no longer configured")
        }
        pendingLogins[state] = nil
        login.callbackConnectionID = connection.id
        login.callbackRequestID = request.id
        let pending = login
        worker.submit {
            .exchanged(login: pending, Result { () throws(OAuthError) in
                try endpoint.exchange(code: code, codeVerifier: pending.verifier, redirectURI: pending.redirectURI,
                                      state: pending.state, now: Clock.unixSeconds)
            })
        }
        return .deferred
    }

    func finishLogin(_ login: PendingLogin, _ result: Result<TokenGrant, OAuthError>) {
        let answer: JSONValue
        switch result {
        case .success(let grant):
            let now = Clock.unixSeconds()
            let token = HeldToken(accessToken: grant.accessToken, refreshToken: grant.refreshToken, expiresAt: grant.expiresAt,
                                  tokenType: grant.tokenType, scopes: grant.scopes ?? login.scopes,
                                  refreshTokenExpiresAt: grant.refreshTokenExpiresAt)
            do throws(AgentError) {
                let account = try store.store(name: login.account, requestedID: login.accountID, provider: login.provider,
                                              token: token, forgetAt: configuration.defaultLifetime.map { now + $0 }, now: now)
                store.update(account.id) {
                    $0.refreshAheadAt = refreshAheadTime(for: token)
                    $0.profile = grant.profile ?? $0.profile
                    $0.refreshExpiryWarned = false
                }
                Log.info("logged in account \(account.name) (#\(account.id)), token \(token.fingerprint)")
                if let stored = store.account(id: account.id) { warnOfRefreshExpiry(stored, now: now) }
                if let id = login.requestID {
                    let approved = try moveRequest(id, to: .approved) { $0.token = self.accessToken(of: account, token) }
                    answer = Response.success(id: login.callbackRequestID, approved.json(includingToken: false))
                } else {
                    answer = Response.success(id: login.callbackRequestID, summary(of: account, now: now).json)
                }
            } catch {
                answer = Response.failure(id: login.callbackRequestID, error)
            }
        case .failure(let error):
            Log.info("login for account \(login.account) failed: \(error.message)")
            if let id = login.requestID {
                _ = try? moveRequest(id, to: .error) { $0.error = "exchanging the code failed: \(error.message)" }
            }
            answer = Response.failure(id: login.callbackRequestID, AgentError(.loginFailed, "exchanging the code failed: \(error.message)"))
        }
        if let connection = connections[login.callbackConnectionID] { answerDeferred(connection, answer) }
    }

    /// Drops logins past their time, and authorizations their request no longer uses (it
    /// ended, or another account was selected since).
    /// A fresh single-use `state` (256 random bits) and PKCE verifier for one authorization.
    func makeAuthorizationSecrets() throws(AgentError) -> (state: String, pkce: PKCE) {
        do {
            return (Base64URL.encode(try RandomBytes.generate(32)), try PKCE(randomBytes: try RandomBytes.generate(32)))
        } catch {
            throw AgentError(.internal, "could not make authorization secrets: \(error)")
        }
    }

    func expirePendingLogins() {
        let now = Clock.monotonicMilliseconds()
        pendingLogins = pendingLogins.filter { state, login in
            guard login.expiresAt > now else { return false }
            guard let id = login.requestID else { return true }
            return requests[id]?.authorizationState == state
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
        servedTokens[account.id] = nil
        Log.info("logged out account \(account.name) (#\(account.id))")
        if let waiters = refreshWaiters.removeValue(forKey: account.id) {
            for waiter in waiters {
                guard let waiting = connections[waiter.connectionID] else { continue }
                answerDeferred(waiting, Response.failure(id: waiter.requestID, AgentError(.notFound, "account \(account.name) was logged out")))
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
              settings.provider(named: provider)?.revocationURL != nil
        else {
            result["revocation"] = .string("the provider has no revocation endpoint")
            return .result(result)
        }
        let connectionID = connection.id
        let requestID = request.id
        let name = account.name
        let id = account.id
        worker.submit {
            .revoked(connectionID: connectionID, requestID: requestID, account: name, accountID: id, Result { () throws(OAuthError) in
                try endpoint.revoke(token: refreshToken, hint: "refresh_token")
            })
        }
        return .deferred
    }

    func finishLogout(connectionID: UInt64, requestID: Int64, account: String, accountID: UInt32, _ result: Result<Void, OAuthError>) {
        var answer: JSONObject = ["account": .string(account), "id": .int(Int64(accountID))]
        switch result {
        case .success:
            answer["revoked"] = true
        case .failure(let error):
            Log.info("revoking the refresh token of \(account) failed: \(error.message)")
            answer["revoked"] = false
            answer["revocation"] = .string("failed: \(error.message)")
        }
        if let connection = connections[connectionID] { answerDeferred(connection, Response.success(id: requestID, answer)) }
    }

    /// Imports a credentials file (Claude Code's or the seed CLI's dialect); with `persist`
    /// rotated tokens are written back to it.
    func handleImport(_ request: Request) throws(AgentError) -> Reply {
        try requireUnlocked()
        let body = request.body
        let path = try body.string("path")
        let name = try body.optionalString("account") ?? "default"
        if let problem = AccountName.problem(with: name) { throw AgentError(.badRequest, problem) }
        let persist = try body.optionalBool("persist") ?? false
        let provider = try body.optionalString("provider") ?? settings.defaultProvider
        guard settings.provider(named: provider) != nil else { throw AgentError(.notFound, "no provider \"\(provider)\" is configured") }
        let account = try importCredentials(path: path, account: name, accountID: try optionalAccountID(body),
                                            provider: provider, persist: persist)
        return .result(summary(of: account, now: Clock.unixSeconds()).json)
    }

    func importCredentials(path: String, account name: String, accountID: UInt32?, provider: String, persist: Bool) throws(AgentError) -> Account {
        let file: CredentialsFile
        do throws(CredentialsFileError) {
            file = try CredentialsFile.read(path: path)
        } catch {
            throw AgentError(.badRequest, "cannot import \(error)")
        }
        let stored = file.credentials
        let now = Clock.unixSeconds()
        let token = HeldToken(accessToken: stored.accessToken, refreshToken: stored.refreshToken, expiresAt: stored.expiresAt,
                              tokenType: "Bearer", scopes: stored.scopes, refreshTokenExpiresAt: stored.refreshTokenExpiresAt)
        let account = try store.store(name: name, requestedID: accountID, provider: provider, token: token,
                                      forgetAt: configuration.defaultLifetime.map { now + $0 }, now: now)
        store.update(account.id) {
            $0.persistPath = persist ? path : nil
            $0.refreshAheadAt = refreshAheadTime(for: token)
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

extension Agent {
    /// The redirect URI for one authorization, from the provider's configured targets
    /// (`ProviderConfiguration.redirect(manual:listenerPort:)`) and what the client sent:
    ///
    /// - `manual: true`: the browser is on another machine; the provider's code page.
    /// - `redirect_port`: the port the client listens on, for a target without a port.
    /// - `redirect_uri` (older clients): a concrete URI, which must fit the provider's
    ///   target; for a provider that configures none, any loopback URI (RFC 8252 §7.3).
    /// - `fallback`: a loopback URI whose port serves when the client sent none (the
    ///   bridge's callback for approvals).
    ///
    /// - Throws: `bad_request` naming the provider's registered form when the given URI
    ///   does not fit it, or when no port can be had.
    func chooseRedirect(_ provider: ProviderConfiguration, body: JSONObject, fallback: String?) throws(AgentError) -> RedirectChoice {
        let manual = try body.optionalBool("manual") ?? false
        if let given = try body.optionalString("redirect_uri") {
            let fits = provider.redirectTarget.accepts(given) || given == provider.manualRedirectURI
                || (provider.redirectURI == nil && LoopbackRedirect.isValid(given))
            guard fits, let target = RedirectTarget(given) else {
                throw AgentError(.badRequest, "redirect_uri \(given) does not fit provider \(provider.name)'s registered redirect \(provider.redirectTarget)")
            }
            if case .loopback(let host, let port?, let path) = target {
                return RedirectChoice(uri: given, listenPort: port, listenHost: host, listenPath: path, paste: manual)
            }
            return RedirectChoice(uri: given, listenPort: nil, listenHost: nil, listenPath: nil, paste: true)
        }
        var port: UInt16?
        if let number = try body.optionalInt("redirect_port") {
            guard let valid = UInt16(exactly: number), valid > 0 else {
                throw AgentError(.badRequest, "field \"redirect_port\" must be a port from 1 to 65535")
            }
            port = valid
        } else if let fallback, case .loopback(let host, let fallbackPort?, let path)? = RedirectTarget(fallback) {
            // A provider without a registered form takes the fallback as it is.
            if provider.redirectURI == nil && !manual {
                return RedirectChoice(uri: fallback, listenPort: fallbackPort, listenHost: host, listenPath: path, paste: false)
            }
            port = fallbackPort
        }
        do throws(RedirectError) {
            return try provider.redirect(manual: manual, listenerPort: port)
        } catch {
            throw AgentError(.badRequest, error.message + " (field \"redirect_port\")")
        }
    }
}

/// RFC 8252 §7.3: a native app's redirect is `http` to a loopback IP literal (or
/// localhost) on any port.
enum LoopbackRedirect {
    static func isValid(_ uri: String) -> Bool {
        for prefix in ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"] where uri.hasPrefix(prefix) {
            let rest = uri.dropFirst(prefix.count)
            let port = rest.prefix { $0.isNumber }
            return !port.isEmpty && UInt16(port) != nil && (rest.dropFirst(port.count).first == "/" || rest.count == port.count)
        }
        return false
    }
}
