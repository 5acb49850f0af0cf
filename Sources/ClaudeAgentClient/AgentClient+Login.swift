import AgentProtocol

/// What `login.start` answers: where to send the user, and the state that ties the
/// provider's redirect to this login.
public struct LoginStart: Equatable, Sendable {
    public var account: String
    public var provider: String
    public var authorizeURL: String
    public var redirectURI: String
    public var state: String
    /// The user will paste a code (or the URL the browser ends on).
    public var paste: Bool
    /// Where the provider's redirect arrives on this machine: the loopback host as the
    /// redirect URI names it (`localhost` means both 127.0.0.1 and ::1), port and path;
    /// nil when the provider shows the code on a page of its own instead.
    public var listenHost: String?
    public var listenPort: UInt16?
    public var listenPath: String?

    public init(account: String, provider: String, authorizeURL: String, redirectURI: String, state: String, paste: Bool,
                listenHost: String? = nil, listenPort: UInt16? = nil, listenPath: String? = nil) {
        self.account = account
        self.provider = provider
        self.authorizeURL = authorizeURL
        self.redirectURI = redirectURI
        self.state = state
        self.paste = paste
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.listenPath = listenPath
    }
}

/// What an `oauth.callback` completed.
public enum CallbackOutcome: Equatable, Sendable {
    /// A `login`: the account now held.
    case loggedIn(AccountSummary)
    /// A token request's authorization: the request, now approved.
    case approved(TokenRequestInfo)

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
    /// `login.start`: begins a PKCE login for `account`. The agent picks the redirect from
    /// the provider's registered form: `redirectPort` is the port of a loopback listener
    /// the caller holds (for a provider that takes any port), `manual` asks for the
    /// provider's code page (the browser is elsewhere), `redirectURI` names a concrete
    /// URI instead (older callers). The answer says where to listen, if anywhere.
    public func startLogin(account: String?, accountID: UInt32? = nil, provider: String?, redirectURI: String? = nil,
                           redirectPort: UInt16? = nil, manual: Bool = false, scopes: [String]?) throws(AgentClientError) -> LoginStart {
        var fields = JSONObject()
        if let account { fields["account"] = .string(account) }
        if let accountID { fields["account_id"] = .int(Int64(accountID)) }
        if let provider { fields["provider"] = .string(provider) }
        if let redirectURI { fields["redirect_uri"] = .string(redirectURI) }
        if let redirectPort { fields["redirect_port"] = .int(Int64(redirectPort)) }
        if manual { fields["manual"] = true }
        if let scopes { fields["scopes"] = .array(scopes.map(JSONValue.string)) }
        let result = try call(.loginStart, fields)
        guard let url = result["authorize_url"]?.stringValue, let state = result["state"]?.stringValue else {
            throw AgentClientError(.protocolViolation, "login.start answer lacks authorize_url or state")
        }
        return LoginStart(account: result["account"]?.stringValue ?? "", provider: result["provider"]?.stringValue ?? "",
                          authorizeURL: url, redirectURI: result["redirect_uri"]?.stringValue ?? "",
                          state: state, paste: result["paste"]?.boolValue ?? false,
                          listenHost: result["listen"]?.objectValue?["host"]?.stringValue,
                          listenPort: result["listen"]?.objectValue?["port"]?.intValue.flatMap { UInt16(exactly: $0) },
                          listenPath: result["listen"]?.objectValue?["path"]?.stringValue)
    }

    /// `oauth.callback`: hands the provider's redirect (a code, or an error) to the agent,
    /// which exchanges the code; answers the account it logged in, or the token request
    /// the authorization approved.
    public func completeLogin(state: String, code: String?, error: String? = nil,
                              errorDescription: String? = nil) throws(AgentClientError) -> CallbackOutcome {
        var fields: JSONObject = ["state": .string(state)]
        if let code { fields["code"] = .string(code) }
        if let error { fields["error"] = .string(error) }
        if let errorDescription { fields["error_description"] = .string(errorDescription) }
        let result = try call(.oauthCallback, fields)
        do throws(AgentError) {
            if result["request_id"] != nil { return .approved(try TokenRequestInfo(result)) }
            return .loggedIn(try AccountSummary(json: result))
        } catch {
            throw AgentClientError(.protocolViolation, "unexpected oauth.callback answer: \(error.message)")
        }
    }

    /// `account.logout`: forgets the account and revokes its refresh token when the
    /// provider allows.
    public func logout(_ account: AccountReference, revoke: Bool = true) throws(AgentClientError) -> LogoutResult {
        let result = try call(.accountLogout, ["account": account.json, "revoke": .bool(revoke)])
        return LogoutResult(account: result["account"]?.stringValue ?? account.description,
                            revoked: result["revoked"]?.boolValue ?? false,
                            revocationNote: result["revocation"]?.stringValue)
    }

    /// `account.import`: the agent reads a credentials file (Claude Code's or the seed
    /// CLI's) and holds its tokens; with `persist`, rotated tokens are written back.
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
