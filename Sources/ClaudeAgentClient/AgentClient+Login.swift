import AgentProtocol

/// What `login.start` answers: where to send the user, and the state that ties the
/// provider's redirect to this login.
public struct LoginStart: Equatable, Sendable {
    public var account: String
    public var provider: String
    public var authorizeURL: String
    public var redirectURI: String
    public var state: String
    /// The provider redirects to a page of its own that shows a code to paste, not to us.
    public var paste: Bool

    public init(account: String, provider: String, authorizeURL: String, redirectURI: String, state: String, paste: Bool) {
        self.account = account
        self.provider = provider
        self.authorizeURL = authorizeURL
        self.redirectURI = redirectURI
        self.state = state
        self.paste = paste
    }
}

/// What an `oauth.callback` completed.
public enum CallbackOutcome: Equatable, Sendable {
    /// A `login`: the account now held.
    case loggedIn(AccountSummary)
    /// A token request's authorization: the request, now approved.
    case approved(ApprovalRequestInfo)

    /// The account's name either way.
    public var accountName: String {
        switch self {
        case .loggedIn(let summary): return summary.name
        case .approved(let request): return request.account ?? ""
        }
    }
}

/// What `account.logout` answers.
public struct LogoutResult: Equatable, Sendable {
    public var account: String
    public var revoked: Bool
    /// Why the refresh token was not revoked, when it was not.
    public var revocationNote: String?
}

extension AgentClient {
    /// `login.start`: begins a PKCE login for `account`; the provider will redirect to
    /// `redirectURI` (a loopback listener of the caller's, fitting the provider's
    /// configured form), or, with `manual` (the browser is on another machine), to the
    /// provider's code page when it has one.
    ///
    /// - Throws: `bad_request` for a redirect URI the provider's configuration does not
    ///   accept (RFC 8252 loopback rules); `not_found` for an unknown provider; `locked`;
    ///   `too_many_requests` when too many logins are pending; `protocol_violation` for an
    ///   answer without `authorize_url` or `state`.
    public func startLogin(account: String?, accountID: UInt32? = nil, provider: String?, redirectURI: String? = nil,
                           manual: Bool = false, scopes: [String]?) throws(AgentClientError) -> LoginStart {
        var fields = JSONObject()
        if let account { fields["account"] = .string(account) }
        if let accountID { fields["account_id"] = .int(Int64(accountID)) }
        if let provider { fields["provider"] = .string(provider) }
        if let redirectURI { fields["redirect_uri"] = .string(redirectURI) }
        if manual { fields["manual"] = true }
        if let scopes { fields["scopes"] = .array(scopes.map(JSONValue.string)) }
        let result = try call(.loginStart, fields)
        guard let url = result["authorize_url"]?.stringValue, let state = result["state"]?.stringValue else {
            throw AgentClientError(.protocolViolation, "login.start answer lacks authorize_url or state")
        }
        return LoginStart(account: result["account"]?.stringValue ?? "", provider: result["provider"]?.stringValue ?? "",
                          authorizeURL: url, redirectURI: result["redirect_uri"]?.stringValue ?? "",
                          state: state, paste: result["paste"]?.boolValue ?? false)
    }

    /// `oauth.callback`: hands the provider's redirect (a code, or an error) to the agent,
    /// which exchanges the code; answers the account it logged in, or the token request
    /// the authorization approved.
    ///
    /// - Throws: `invalid_state` for an unknown or expired state; `login_failed` when the
    ///   provider refused the code or sent an error (it works while the agent is locked).
    public func completeLogin(state: String, code: String?, error: String? = nil,
                              errorDescription: String? = nil) throws(AgentClientError) -> CallbackOutcome {
        var fields: JSONObject = ["state": .string(state)]
        if let code { fields["code"] = .string(code) }
        if let error { fields["error"] = .string(error) }
        if let errorDescription { fields["error_description"] = .string(errorDescription) }
        let result = try call(.oauthCallback, fields)
        do throws(AgentError) {
            if result["request_id"] != nil { return .approved(try ApprovalRequestInfo(result)) }
            return .loggedIn(try AccountSummary(json: result))
        } catch {
            throw AgentClientError(.protocolViolation, "unexpected oauth.callback answer: \(error.message)")
        }
    }

    /// `account.logout`: forgets the account and revokes its refresh token when the
    /// provider allows.
    ///
    /// - Throws: `not_found` when no account matches; `locked`.
    public func logout(_ account: AccountReference, revoke: Bool = true) throws(AgentClientError) -> LogoutResult {
        let result = try call(.accountLogout, ["account": account.json, "revoke": .bool(revoke)])
        return LogoutResult(account: result["account"]?.stringValue ?? account.description,
                            revoked: result["revoked"]?.boolValue ?? false,
                            revocationNote: result["revocation"]?.stringValue)
    }

    /// `account.import`: the agent reads a credentials file (Claude Code's or the seed
    /// CLI's) and holds its tokens; with `persist`, rotated tokens are written back.
    ///
    /// - Throws: `bad_request` for a file that is missing, unreadable or not a credentials
    ///   file; `locked`.
    @discardableResult
    public func importCredentials(path: String, account: String?, persist: Bool) throws(AgentClientError) -> AccountSummary {
        var fields: JSONObject = ["path": .string(path), "persist": .bool(persist)]
        if let account { fields["account"] = .string(account) }
        let result = try call(.accountImport, fields)
        do throws(AgentError) {
            return try AccountSummary(json: result)
        } catch {
            throw AgentClientError(.protocolViolation, "unexpected account.import answer: \(error.message)")
        }
    }
}

/// What `provider.get` answers: what a client needs to serve a provider's redirect.
public struct ProviderInfo: Equatable, Sendable {
    public var name: String
    /// The configured redirect URI; nil when the client offers its own loopback one.
    public var redirectURI: String?
    /// The configured redirect is the provider's own page, which shows a code to paste.
    public var paste: Bool
    /// The provider's code page for a browser on another machine (`login.start` with
    /// `manual`); nil when it has none.
    public var manualRedirectURI: String?
    /// The API the provider's tokens are for (`api_url`); nil when none is configured.
    public var apiURL: String?

    public init(name: String, redirectURI: String?, paste: Bool, manualRedirectURI: String? = nil, apiURL: String? = nil) {
        self.name = name
        self.redirectURI = redirectURI
        self.paste = paste
        self.manualRedirectURI = manualRedirectURI
        self.apiURL = apiURL
    }
}

extension AgentClient {
    /// `provider.get`: the provider named, else `account`'s, else the default one.
    ///
    /// - Throws: `not_found` for an unknown provider or account; `protocol_violation` for
    ///   an answer without `provider`.
    public func provider(named name: String?, account: AccountReference? = nil) throws(AgentClientError) -> ProviderInfo {
        var fields = JSONObject()
        if let name { fields["provider"] = .string(name) }
        if let account { fields["account"] = account.json }
        let result = try call(.providerGet, fields)
        guard let provider = result["provider"]?.stringValue else {
            throw AgentClientError(.protocolViolation, "provider.get answer lacks provider")
        }
        return ProviderInfo(name: provider, redirectURI: result["redirect_uri"]?.stringValue,
                            paste: result["paste"]?.boolValue ?? false,
                            manualRedirectURI: result["manual_redirect_uri"]?.stringValue,
                            apiURL: result["api_url"]?.stringValue)
    }
}
