import AgentPOSIX
import AgentProtocol

/// A token request as the agent describes it (`request.*` answers).
public struct ApprovalRequestInfo: Equatable, Sendable {
    public var id: String
    /// Tolerant: a status this version does not know is kept, and reads as terminal.
    public var status: ApprovalStatus
    public var clientName: String
    public var hostname: String
    public var scopes: [String]
    public var account: String?
    public var accountID: UInt32?
    /// The account the requester asked for (`preferred_account`: a name, or an id as
    /// digits), shown to approvers; nil when it named none.
    public var preferredAccount: String?
    public var callerPID: Int32?
    public var callerExecutable: String?
    /// Set when the request came through a forwarded socket: the relaying program (`ssh`,
    /// `sshd`) and the destination `ssh` was started with, when known.
    public var forwardedVia: String?
    public var forwardedTo: String?
    public var createdAt: Int64?
    public var error: String?
    /// Once approved (and only in `request.get` / `request.wait` answers).
    public var token: AccessToken?
    /// With `print_url`: the authorize URL to open by hand.
    public var authorizeURL: String?
    /// After `request.select_account` started an authorization: its OAuth state, so a
    /// loopback listener relaying the provider's redirect can recognise it.
    public var authorizationState: String?
    /// After `request.select_account` started an authorization: where the provider will
    /// redirect.
    public var redirectURI: String?

    public var isTerminal: Bool { status.isTerminal }

    init(_ json: JSONObject) throws(AgentError) {
        id = try json.string("request_id")
        status = ApprovalStatus(rawValue: try json.string("status"))
        clientName = try json.optionalString("client_name") ?? ""
        hostname = try json.optionalString("hostname") ?? ""
        scopes = try json.scopes() ?? []
        account = try json.optionalString("account")
        accountID = try json.optionalInt("account_id").map { UInt32(clamping: $0) }
        let preferred = json["preferred_account"]
        preferredAccount = preferred?.stringValue ?? preferred?.intValue.map { String($0) }
        let caller = json["caller"]?.objectValue
        callerPID = caller?["pid"]?.intValue.map { Int32(clamping: $0) }
        callerExecutable = caller?["executable"]?.stringValue
        let forwarded = caller?["forwarded"]?.objectValue
        forwardedVia = forwarded?["via"]?.stringValue
        forwardedTo = forwarded?["destination"]?.stringValue
        createdAt = try json.optionalString("created_at").flatMap(RFC3339.parse)
        error = try json.optionalString("error")
        if let token = json["token"]?.objectValue { self.token = try AccessToken(json: token) }
        authorizeURL = try json.optionalString("authorize_url")
        authorizationState = try json.optionalString("state")
        redirectURI = try json.optionalString("redirect_uri")
    }
}

extension AgentClient {
    /// `token.get` with `wait`: when no valid token covers the scopes, the agent makes a
    /// token request and answers when a person approves (the token) or it ends otherwise
    /// (`denied`, `cancelled`, `timeout`, `request_failed`).
    ///
    /// `timeoutSeconds` is the wait the agent gives the request (the wire's `timeout`);
    /// the call itself waits `waitAnswerGraceMilliseconds` longer for the answer.
    ///
    /// - Throws: as `token(scopes:account:refresh:)`, and with `wait`, `denied`, `cancelled`,
    ///   `timeout` or `request_failed` as the request ends.
    public func token(scopes: [String], account: AccountReference?, wait: Bool, timeoutSeconds: Int64 = NumberRange.defaultWaitSeconds,
                      clientName: String? = nil) throws(AgentClientError) -> AccessToken {
        guard wait else { return try token(scopes: scopes, account: account) }
        var fields: JSONObject = ["scopes": .array(scopes.map(JSONValue.string)), "wait": true, "timeout": .int(timeoutSeconds)]
        if let account { fields["account"] = account.json }
        if let clientName { fields["client_name"] = .string(clientName) }
        let saved = timeoutMilliseconds
        timeoutMilliseconds = Self.answerWaitMilliseconds(forWaitSeconds: timeoutSeconds)
        defer { timeoutMilliseconds = saved }
        let result = try call(.tokenGet, fields)
        return try decode { () throws(AgentError) in try AccessToken(json: result) }
    }

    /// `request.create`: asks for a token that a person approves; answers the pending request.
    /// - Throws: `too_many_requests` when the agent, or this caller, has its most live
    ///   requests; `bad_request` for fields over their limits.
    public func createRequest(scopes: [String], account: AccountReference? = nil, clientName: String? = nil,
                              hostname: String? = nil) throws(AgentClientError) -> ApprovalRequestInfo {
        var fields: JSONObject = ["scopes": .array(scopes.map(JSONValue.string))]
        if let account { fields["account"] = account.json }
        if let clientName { fields["client_name"] = .string(clientName) }
        if let hostname { fields["hostname"] = .string(hostname) }
        return try requestInfo(try call(.requestCreate, fields))
    }

    /// `request.get`: one request as the agent describes it.
    /// - Throws: `not_found` for an unknown or forgotten request.
    public func request(_ id: String) throws(AgentClientError) -> ApprovalRequestInfo {
        try requestInfo(try call(.requestGet, ["request_id": .string(id)]))
    }

    /// `request.list`: the live requests, oldest first, following the pages.
    ///
    /// - Throws: `protocol_violation` also when the pages do not add up.
    public func listRequests() throws(AgentClientError) -> [ApprovalRequestInfo] {
        let items = try ListPages.collect(.requestList, key: "requests") { op, fields throws(AgentClientError) in
            try call(op, fields)
        }
        return try decode { () throws(AgentError) in
            var requests: [ApprovalRequestInfo] = []
            for item in items {
                guard let object = item.objectValue else { throw AgentError(.badRequest, "request entry is not an object") }
                requests.append(try ApprovalRequestInfo(object))
            }
            return requests
        }
    }

    /// `request.wait`: blocks until the request ends or `timeoutSeconds` pass (the wire's
    /// `timeout`); calls `tick` about once a second meanwhile (for a progress line).
    ///
    /// - Throws: `not_found` for an unknown request.
    public func waitForRequest(_ id: String, timeoutSeconds: Int64, tick: () -> Void = {}) throws(AgentClientError) -> ApprovalRequestInfo {
        let saved = timeoutMilliseconds
        timeoutMilliseconds = Self.answerWaitMilliseconds(forWaitSeconds: timeoutSeconds)
        defer { timeoutMilliseconds = saved }
        let result = try call(.requestWait, ["request_id": .string(id), "timeout": .int(timeoutSeconds)], tick: tick)
        return try requestInfo(result)
    }

    /// `request.select_account`: approves with a held token, or starts the authorization
    /// (the control browser opens it; with `printURL` the URL comes back instead; with
    /// `redirectURI` the provider redirects to that loopback listener).
    ///
    /// - Throws: `not_found` for an unknown request or account; `invalid_status` when the
    ///   request is no longer pending; `control_browser_failed` when the control browser
    ///   could not open the authorization; `locked` while the agent is locked; `refresh_failed`, `login_required` or
    ///   `rotation_lost` when the held token cannot be refreshed.
    public func selectAccount(_ id: String, account: AccountReference, printURL: Bool = false,
                              redirectURI: String? = nil) throws(AgentClientError) -> ApprovalRequestInfo {
        var fields: JSONObject = ["request_id": .string(id), "account": account.json, "print_url": .bool(printURL)]
        if let redirectURI { fields["redirect_uri"] = .string(redirectURI) }
        return try requestInfo(try call(.requestSelectAccount, fields))
    }

    /// `request.deny`: ends a pending request as denied, with `reason` if given.
    ///
    /// - Throws: `not_found` for an unknown request; `invalid_status` when it already ended;
    ///   `locked` while the agent is locked.
    public func denyRequest(_ id: String, reason: String? = nil) throws(AgentClientError) -> ApprovalRequestInfo {
        var fields: JSONObject = ["request_id": .string(id)]
        if let reason { fields["reason"] = .string(reason) }
        return try requestInfo(try call(.requestDeny, fields))
    }

    /// `request.cancel`: the asking tool gives up its pending request.
    ///
    /// - Throws: `not_found` for an unknown request; `invalid_status` when it already ended.
    public func cancelRequest(_ id: String) throws(AgentClientError) -> ApprovalRequestInfo {
        try requestInfo(try call(.requestCancel, ["request_id": .string(id)]))
    }

    /// How much longer than a wait it asked for (`request.wait`, `token.get` with `wait`)
    /// a client waits for the answer, which the agent gives by its own deadline; this only
    /// guards against an agent that never does.
    public static let waitAnswerGraceMilliseconds: Int64 = 10_000

    /// How long, in milliseconds, to wait for the answer to a wait of `seconds`:
    /// `waitAnswerGraceMilliseconds` more, saturating rather than trapping on a huge
    /// `seconds`.
    public static func answerWaitMilliseconds(forWaitSeconds seconds: Int64) -> Int64 {
        seconds.saturatingMultiplied(by: 1000).saturatingAdding(waitAnswerGraceMilliseconds)
    }

    private func requestInfo(_ result: JSONObject) throws(AgentClientError) -> ApprovalRequestInfo {
        try decode { () throws(AgentError) in try ApprovalRequestInfo(result) }
    }

    func decode<T>(_ body: () throws(AgentError) -> T) throws(AgentClientError) -> T {
        do throws(AgentError) {
            return try body()
        } catch {
            throw .unexpectedAnswer(error)
        }
    }
}
