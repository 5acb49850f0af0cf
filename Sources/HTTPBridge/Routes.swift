import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient
import HTTPCodec

/// The HTTP API, each route turned into one agent operation.
///
/// The JSON answers of the original router's routes keep its shapes and field order byte
/// for byte (serde_json's compact form), so its clients work unchanged; its plain-text
/// errors became `{"error": "<code>", "message": "..."}` with the same codes.
public struct BridgeRoutes {
    public let agent: any AgentCalling
    public let security: BridgeSecurity
    /// Unix seconds, for the page's ages (a parameter so tests can fix it).
    public var now: () -> Int64 = Clock.unixSeconds

    public init(agent: any AgentCalling, security: BridgeSecurity) {
        self.agent = agent
        self.security = security
    }

    /// The server's handler: checks, routing, then the route.
    public func handle(_ request: HTTPRequest, _ connection: ConnectionInfo) -> HTTPResponse {
        var response = respond(to: request, connection: connection)
        // Responses are for this user only: never framed, never leaking the URL onward.
        if response.headers["X-Frame-Options"] == nil { response.headers.append("X-Frame-Options", "DENY") }
        if response.headers["Referrer-Policy"] == nil { response.headers.append("Referrer-Policy", "same-origin") }
        return response
    }

    func respond(to request: HTTPRequest, connection: ConnectionInfo) -> HTTPResponse {
        if let refusal = security.checkHostAndOrigin(request, local: connection.local) { return refusal }
        let route: Route
        switch Route.match(method: request.method, path: request.path) {
        case .found(let found): route = found
        case .notFound: return .error(404, .notFound, "no route \(request.method) \(request.path)")
        case .methodNotAllowed(let allowed):
            var response = HTTPResponse.error(405, .methodNotAllowed, "\(request.path) answers \(allowed.joined(separator: ", "))")
            response.headers.append("Allow", allowed.joined(separator: ", "))
            return response
        }
        if route == .page, let token = request.queryValue("token") {
            return logIn(token: token)
        }
        if route.requiresSecret && !security.isAuthorized(request) {
            return unauthorized(route)
        }
        switch route {
        case .page: return page(notice: request.queryValue("error"))
        case .health: return health()
        case .createRequest: return createRequest(request, from: connection)
        case .listRequests: return passThrough(.requestList, key: "requests")
        case .requestStatus(let id): return status(id)
        case .selectAccount(let id): return selectAccount(id, request)
        case .cancel(let id): return cancel(id)
        case .accounts: return passThrough(.accountList, key: "accounts")
        case .oauthCallback: return oauthCallback(request)
        case .approve(let id): return approveFromPage(id, request)
        case .deny(let id): return denyFromPage(id)
        }
    }

    // MARK: The original router's API

    /// `POST /v1/token-requests` `{"client_name", "hostname", "scopes"}` →
    /// 201 `{"request_id", "status"}`.
    func createRequest(_ request: HTTPRequest, from connection: ConnectionInfo) -> HTTPResponse {
        if let refusal = requireJSON(request) { return refusal }
        let body: JSONObject
        let fields: JSONObject
        do throws(AgentError) {
            body = try jsonObject(request.body)
            var built: JSONObject = [
                "client_name": .string(try body.string("client_name")),
                "hostname": .string(try body.string("hostname")),
            ]
            guard let scopes = try body.optionalStringArray("scopes") else {
                throw AgentError(.badRequest, "field \"scopes\" must be present and an array of strings")
            }
            built["scopes"] = .array(scopes.map(JSONValue.string))
            if let account = try body.optionalAccount() { built["account"] = account.json }
            // Attribute the request to the HTTP client, not to the bridge.
            if let pid = PeerProcess.pid(ofPeer: connection.peer, connectedTo: connection.local) {
                built["caller_pid"] = .int(Int64(pid))
            }
            fields = built
        } catch {
            return .error(400, .invalidBody, error.message)
        }
        do throws(AgentClientError) {
            let created = try agent.call(.requestCreate, fields)
            return .json(201, .object([
                "request_id": created["request_id"] ?? .null,
                "status": .string(Self.originalStatus(created["status"]?.stringValue)),
            ]))
        } catch {
            switch error.code {
            case .badRequest: return .error(400, .invalidBody, error.message)
            case .tooManyRequests: return .error(429, .tooManyRequests, error.message)
            default: return agentFailure(error)
            }
        }
    }

    /// `GET /v1/token-requests/{id}/status` → `{"request_id", "status", "token", "error"}`.
    func status(_ id: String) -> HTTPResponse {
        guard Route.isApprovalID(id) else { return invalidApprovalID(id) }
        do throws(AgentClientError) {
            let request = try agent.call(.requestGet, ["request_id": .string(id)])
            let agentStatus = request["status"]?.stringValue
            var error = request["error"] ?? .null
            if agentStatus == ApprovalStatus.expired.rawValue && error.isNull { error = "the request expired" }
            return .json(200, .object([
                "request_id": .string(id),
                "status": .string(Self.originalStatus(agentStatus)),
                "token": request["token"]?.objectValue.map(Self.originalTokenBundle) ?? .null,
                "error": error,
            ]))
        } catch {
            return requestFailure(error, invalidStatusCode: .invalidStatus)
        }
    }

    /// `POST /v1/token-requests/{id}/select-account` `{"account_id": <u32>}` →
    /// `{"request_id", "status", "account_id"}`.
    func selectAccount(_ id: String, _ request: HTTPRequest) -> HTTPResponse {
        guard Route.isApprovalID(id) else { return invalidApprovalID(id) }
        if let refusal = requireJSON(request) { return refusal }
        let accountID: UInt32
        do throws(AgentError) {
            let body = try jsonObject(request.body)
            guard let value = body["account_id"], case .int(let number) = value, let id = UInt32(exactly: number) else {
                throw AgentError(.badRequest, "field \"account_id\" must be an integer from 0 to 4294967295")
            }
            accountID = id
        } catch {
            return .error(400, .invalidBody, error.message)
        }
        do throws(AgentClientError) {
            let selected = try agent.call(.requestSelectAccount,
                                          ["request_id": .string(id), "account": .int(Int64(accountID))])
            return .json(200, .object([
                "request_id": .string(id),
                "status": .string(Self.originalStatus(selected["status"]?.stringValue)),
                "account_id": selected["account_id"].flatMap { $0.isNull ? nil : $0 } ?? .int(Int64(accountID)),
            ]))
        } catch {
            return requestFailure(error, invalidStatusCode: .invalidStatusForSelect)
        }
    }

    /// `POST /v1/token-requests/{id}/cancel` → `{"request_id", "status": "cancelled"}`.
    func cancel(_ id: String) -> HTTPResponse {
        guard Route.isApprovalID(id) else { return invalidApprovalID(id) }
        do throws(AgentClientError) {
            let cancelled = try agent.call(.requestCancel, ["request_id": .string(id)])
            return .json(200, .object([
                "request_id": .string(id),
                "status": .string(Self.originalStatus(cancelled["status"]?.stringValue)),
            ]))
        } catch {
            return requestFailure(error, invalidStatusCode: .invalidStatusForCancel)
        }
    }

    /// `GET /oauth/callback?code=&state=` (or `?error=&state=`): the provider's redirect,
    /// handed to the agent, which exchanges the code. A person's browser shows the answer.
    func oauthCallback(_ request: HTTPRequest) -> HTTPResponse {
        guard request.queryItems != nil else { return .error(400, .invalidQuery, "the query holds a malformed percent escape") }
        let state = request.queryValue("state")
        var fields: JSONObject = [:]
        if let providerError = request.queryValue("error") {
            guard let state else { return .error(400, .missingState, "the callback has no state parameter") }
            fields = ["state": .string(state), "error": .string(providerError)]
            if let description = request.queryValue("error_description") { fields["error_description"] = .string(description) }
        } else {
            guard let code = request.queryValue("code") else { return .error(400, .missingCode, "the callback has no code parameter") }
            guard let state else { return .error(400, .missingState, "the callback has no state parameter") }
            fields = ["state": .string(state), "code": .string(code)]
        }
        do throws(AgentClientError) {
            _ = try agent.call(.oauthCallback, fields)
            return ApprovalPage.messageResponse(200, title: "Approved", text: "You may close this window.")
        } catch {
            let (status, text): (Int, String)
            switch error.code {
            case .invalidState: (status, text) = (400, "This sign-in is unknown, was already used, or expired.")
            case .denied: (status, text) = (200, "The request was denied. You may close this window.")
            case .loginFailed: (status, text) = (500, "Signing in failed: \(error.message)")
            case .badRequest: (status, text) = (400, "The callback was malformed: \(error.message)")
            case .agentNotRunning, .io: (status, text) = (503, "The agent is not running, so the sign-in could not be completed.")
            default: (status, text) = (500, "The agent could not complete the sign-in: \(error.message)")
            }
            return ApprovalPage.messageResponse(status, title: status == 200 ? "Denied" : "Error", text: text)
        }
    }

    // MARK: New routes

    /// `GET /healthz` → `{"ok": true, "agent_pid": n}`, or 503 when the agent is away.
    func health() -> HTTPResponse {
        do throws(AgentClientError) {
            let status = try agent.call(.status, [:])
            return .json(200, .object(["ok": true, "agent_pid": status["pid"] ?? .null]))
        } catch {
            return .error(503, .agentUnreachable, error.message, leading: ["ok": false])
        }
    }

    /// A list route: `{"<key>": [...]}`, every page the agent gives joined in order.
    func passThrough(_ op: Op, key: String) -> HTTPResponse {
        do throws(AgentClientError) {
            return .json(200, .object([key: .array(try allPages(op, key: key))]))
        } catch {
            return agentFailure(error)
        }
    }

    /// Every entry of a paged list operation (see `ListPages`).
    func allPages(_ op: Op, key: String) throws(AgentClientError) -> [JSONValue] {
        try ListPages.collect(op, key: key) { op, fields throws(AgentClientError) in try agent.call(op, fields) }
    }

    // MARK: The approval page

    /// `GET /?token=<secret>`: trades the secret in the URL for the cookie and redirects
    /// to `/`, so the secret leaves the address bar and the history.
    func logIn(token: String) -> HTTPResponse {
        guard security.secret.matches(token) else { return unauthorized(.page) }
        var response = HTTPResponse.redirect(to: "/")
        response.headers.append("Set-Cookie", security.sessionCookie)
        return response
    }

    func page(notice: String?) -> HTTPResponse {
        var requests: [JSONObject] = []
        var accounts: [JSONObject] = []
        var problems: [String] = []
        do throws(AgentClientError) {
            requests = try allPages(.requestList, key: "requests").compactMap(\.objectValue)
        } catch {
            problems.append("The agent did not list the requests: \(error.message)")
        }
        do throws(AgentClientError) {
            accounts = try allPages(.accountList, key: "accounts").compactMap(\.objectValue)
        } catch {
            if problems.isEmpty { problems.append("The agent did not list the accounts: \(error.message)") }
        }
        if let notice { problems.insert((ApprovalPage.Notice(rawValue: notice) ?? .failed).text, at: 0) }
        return ApprovalPage.response(requests: requests, accounts: accounts, problems: problems, now: now())
    }

    /// `POST /ui/requests/{id}/approve` with `account_id` (or `new_account_id`), then back
    /// to the page.
    func approveFromPage(_ id: String, _ request: HTTPRequest) -> HTTPResponse {
        guard Route.isApprovalID(id) else { return .redirect(to: "/?error=\(ApprovalPage.Notice.code(.invalidApprovalID).rawValue)") }
        guard let form = PercentEncoding.parseQuery(String(decoding: request.body, as: UTF8.self)) else {
            return .redirect(to: "/?error=invalid_account")
        }
        let chosen = form.last { $0.0 == "new_account_id" && !$0.1.isEmpty }?.1 ?? form.last { $0.0 == "account_id" }?.1
        guard let chosen, let accountID = UInt32(chosen) else { return .redirect(to: "/?error=invalid_account") }
        do throws(AgentClientError) {
            _ = try agent.call(.requestSelectAccount, ["request_id": .string(id), "account": .int(Int64(accountID))])
            return .redirect(to: "/")
        } catch {
            return .redirect(to: "/?error=\(ApprovalPage.Notice(error.code).rawValue)")
        }
    }

    /// `POST /ui/requests/{id}/deny`, then back to the page.
    func denyFromPage(_ id: String) -> HTTPResponse {
        guard Route.isApprovalID(id) else { return .redirect(to: "/?error=\(ApprovalPage.Notice.code(.invalidApprovalID).rawValue)") }
        do throws(AgentClientError) {
            _ = try agent.call(.requestDeny, ["request_id": .string(id), "reason": "denied on the approval page"])
            return .redirect(to: "/")
        } catch {
            return .redirect(to: "/?error=\(ApprovalPage.Notice(error.code).rawValue)")
        }
    }

    // MARK: Shapes and errors

    /// The original router's statuses: it had no `expired`, which its clients could not
    /// parse, so an expired request reads as `error` (with the reason in `error`).
    static func originalStatus(_ status: String?) -> String {
        guard let status, status != ApprovalStatus.expired.rawValue else { return ApprovalStatus.error.rawValue }
        return status
    }

    /// The original `TokenBundle`: `access_token`, `refresh_token` (always null: the
    /// refresh token never leaves the agent), `expires_at`, `token_type`, `scope`
    /// (space-joined, as OAuth writes it).
    static func originalTokenBundle(_ token: JSONObject) -> JSONValue {
        let scopes = (token["scopes"]?.arrayValue ?? []).compactMap(\.stringValue)
        let expiresAt = token["expires_at"]?.stringValue.flatMap(RFC3339.parse).map { JSONValue.string(RFC3339.format($0)) }
        return .object([
            "access_token": token["access_token"] ?? .null,
            "refresh_token": .null,
            "expires_at": expiresAt ?? .null,
            "token_type": token["token_type"] ?? "Bearer",
            "scope": scopes.isEmpty ? (token["scope"] ?? .null) : .string(Scopes.joined(scopes)),
        ])
    }

    /// The errors of routes on one request.
    func requestFailure(_ error: AgentClientError, invalidStatusCode: HTTPErrorCode) -> HTTPResponse {
        switch error.code {
        case .notFound: return .error(404, .requestNotFound, error.message)
        case .badRequest: return .error(400, .invalidBody, error.message)
        case .invalidStatus: return .error(409, invalidStatusCode, error.message)
        case .controlBrowserFailed: return .error(502, .controlBrowserUnreachable, error.message)
        default: return agentFailure(error)
        }
    }

    /// Errors any route may meet: the agent away, locked, or answering oddly.
    func agentFailure(_ error: AgentClientError) -> HTTPResponse {
        switch error.code {
        case .agentNotRunning, .io: return .error(503, .agentUnreachable, error.message)
        case .timeout: return .error(504, .agentTimeout, error.message)
        case .locked: return .error(423, .locked, error.message)
        case .busy: return .error(503, .agentBusy, error.message)
        case .protocolViolation: return .error(502, .badAgentAnswer, error.message)
        default: return .error(500, .agentError, "\(error.code.rawValue): \(error.message)")
        }
    }

    func invalidApprovalID(_ id: String) -> HTTPResponse {
        .error(400, .invalidApprovalID, "a request id has the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hexadecimal)")
    }

    func unauthorized(_ route: Route) -> HTTPResponse {
        var response: HTTPResponse
        if route == .page {
            response = ApprovalPage.messageResponse(
                401, title: "Unauthorized",
                text: "Open the address the bridge printed when it started (it ends in ?token=…), "
                    + "or the same address with the token from the bridge.token file beside the agent's socket.")
        } else {
            response = .error(401, .unauthorized, "this route needs the bridge secret (Authorization: Bearer, from bridge.token)")
        }
        response.headers.append("WWW-Authenticate", "Bearer realm=\"claude-agent bridge\"")
        return response
    }

    /// JSON bodies must say so (or say nothing): a cross-site form cannot send
    /// `application/json` without a CORS preflight, which the Origin check refuses.
    func requireJSON(_ request: HTTPRequest) -> HTTPResponse? {
        guard let type = request.headers["Content-Type"] else { return nil }
        let mediaType = trimmed(type.split(separator: ";", maxSplits: 1).first ?? "").lowercased()
        guard mediaType == "application/json" else {
            return .error(415, .unsupportedMediaType, "the body must be application/json")
        }
        return nil
    }

    func jsonObject(_ body: [UInt8]) throws(AgentError) -> JSONObject {
        let value: JSONValue
        do throws(JSONError) {
            value = try JSONValue.parse(body)
        } catch {
            throw AgentError(.badRequest, "the body is not valid JSON: \(error)")
        }
        guard let object = value.objectValue else { throw AgentError(.badRequest, "the body must be a JSON object") }
        return object
    }
}
