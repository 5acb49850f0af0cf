import AgentProtocol
import ClaudeAgentClient
import HTTPBridge
import HTTPCodec
import Testing

let requestID = "9b2f1c3e-0a4d-4e5f-8a6b-7c8d9e0f1a2b"

@Suite("The route table")
struct RouteTableTests {
    @Test("every route, by method and path", arguments: [
        ("GET", "/", Route.page), ("HEAD", "/", .page), ("GET", "/healthz", .health),
        ("POST", "/v1/token-requests", .createRequest), ("GET", "/v1/token-requests", .listRequests),
        ("GET", "/v1/token-requests/\(requestID)/status", .requestStatus(requestID)),
        ("POST", "/v1/token-requests/\(requestID)/select-account", .selectAccount(requestID)),
        ("POST", "/v1/token-requests/\(requestID)/cancel", .cancel(requestID)),
        ("GET", "/v1/accounts", .accounts), ("GET", "/oauth/callback", .oauthCallback), ("GET", "/callback", .oauthCallback),
        ("POST", "/ui/requests/\(requestID)/approve", .approve(requestID)),
        ("POST", "/ui/requests/\(requestID)/deny", .deny(requestID)),
        ("GET", "/v1/token-requests/not-an-id/status", .requestStatus("not-an-id")),
    ])
    func found(_ method: String, _ path: String, _ route: Route) {
        #expect(Route.match(method: method, path: path) == .found(route))
    }

    @Test("a known path with another method is 405 with the allowed methods")
    func methodNotAllowed() {
        #expect(Route.match(method: "POST", path: "/healthz") == .methodNotAllowed(allowed: ["GET", "HEAD"]))
        #expect(Route.match(method: "GET", path: "/v1/token-requests/\(requestID)/cancel") == .methodNotAllowed(allowed: ["POST"]))
        #expect(Route.match(method: "DELETE", path: "/v1/token-requests") == .methodNotAllowed(allowed: ["GET", "HEAD", "POST"]))
        #expect(Route.match(method: "get", path: "/healthz") == .methodNotAllowed(allowed: ["GET", "HEAD"]))
    }

    @Test("unknown paths are 404", arguments: [
        "/nope", "/v1", "/v1/token-requests/", "/healthz/", "//", "/v1/token-requests/\(requestID)",
        "/v1/token-requests/\(requestID)/status/x", "/v1/token-requests//status", "/ui/requests/\(requestID)/maybe",
    ])
    func notFound(_ path: String) {
        #expect(Route.match(method: "GET", path: path) == .notFound)
    }

    @Test("only the original router's client routes and health go without the secret")
    func secretRequired() {
        #expect(!Route.health.requiresSecret && !Route.createRequest.requiresSecret)
        #expect(!Route.requestStatus(requestID).requiresSecret && !Route.oauthCallback.requiresSecret)
        for route in [Route.page, .listRequests, .selectAccount(requestID), .cancel(requestID), .accounts,
                      .approve(requestID), .deny(requestID)] {
            #expect(route.requiresSecret, "\(route)")
        }
    }

    @Test("request ids have the UUID form", arguments: [
        (requestID, true), (requestID.uppercased(), true), ("9b2f1c3e0a4d4e5f8a6b7c8d9e0f1a2b", false),
        ("9b2f1c3e-0a4d-4e5f-8a6b-7c8d9e0f1a2", false), ("9b2f1c3e-0a4d-4e5f-8a6b-7c8d9e0f1a2g", false),
        ("9b2f1c3e_0a4d-4e5f-8a6b-7c8d9e0f1a2b", false), ("", false), ("../../etc/passwd", false),
    ])
    func requestIDs(_ id: String, _ valid: Bool) {
        #expect(Route.isApprovalID(id) == valid)
    }
}

@Suite("The routes over a stand-in agent")
struct RoutesTests {
    let agent = FakeAgent()
    var routes: BridgeRoutes {
        var routes = BridgeRoutes(agent: agent, security: BridgeSecurity(secret: testSecret))
        routes.now = { 1_795_420_800 }
        return routes
    }
    let bearer = ("Authorization", "Bearer \(testSecret.value)")

    func handle(_ request: HTTPRequest) -> (status: Int, body: String, response: HTTPResponse) {
        let response = routes.handle(request, testConnection)
        return (response.status, String(decoding: response.body, as: UTF8.self), response)
    }

    static func agentRequest(status: String, token: JSONValue = .null, error: JSONValue = .null) -> JSONObject {
        [
            "request_id": .string(requestID), "status": .string(status), "client_name": "cli", "hostname": "box",
            "scopes": ["user:inference"], "account": .null, "account_id": .null,
            "caller": ["pid": 123, "uid": 1000, "executable": "/usr/bin/cli", "command_line": "cli --x"],
            "created_at": "2026-11-23T08:00:00Z", "updated_at": "2026-11-23T08:00:00Z", "error": error, "token": token,
        ]
    }

    @Test("POST /v1/token-requests: 201 with the original router's exact body")
    func create() {
        agent.answers[.requestCreate] = .success(Self.agentRequest(status: "pending"))
        let result = handle(request("POST", "/v1/token-requests", headers: [("Content-Type", "application/json")],
                                    body: #"{"client_name": "cli", "hostname": "box", "scopes": ["user:inference", "user:profile"]}"#))
        #expect(result.status == 201)
        #expect(result.body == #"{"request_id":"9b2f1c3e-0a4d-4e5f-8a6b-7c8d9e0f1a2b","status":"pending"}"#)
        #expect(result.response.headers["Content-Type"] == "application/json")
        #expect(agent.calls.first?.op == .requestCreate)
        #expect(agent.calls.first?.fields == ["client_name": "cli", "hostname": "box", "scopes": ["user:inference", "user:profile"]])
    }

    @Test("POST /v1/token-requests with a bad body: 400 invalid_body, the agent not asked", arguments: [
        "", "not json", "[]", #"{"hostname": "box", "scopes": []}"#, #"{"client_name": "cli", "hostname": "box"}"#,
        #"{"client_name": "cli", "hostname": "box", "scopes": "user:inference"}"#, #"{"client_name": 1, "hostname": "box", "scopes": []}"#,
    ])
    func createInvalid(_ body: String) {
        let result = handle(request("POST", "/v1/token-requests", body: body))
        #expect(result.status == 400)
        #expect(result.body.hasPrefix(#"{"error":"invalid_body","#))
        #expect(agent.calls.isEmpty)
    }

    @Test("POST /v1/token-requests as a form: 415")
    func createAsForm() {
        let result = handle(request("POST", "/v1/token-requests", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                    body: "client_name=x"))
        #expect(result.status == 415)
    }

    @Test("agent refusals of a creation: bad_request 400, too_many_requests 429, no agent 503")
    func createRefused() {
        let body = #"{"client_name": "cli", "hostname": "box", "scopes": []}"#
        agent.answers[.requestCreate] = .failure(AgentClientError(.tooManyRequests, "too many"))
        #expect(handle(request("POST", "/v1/token-requests", body: body)).status == 429)
        agent.answers[.requestCreate] = .failure(AgentClientError(.badRequest, "bad scope"))
        #expect(handle(request("POST", "/v1/token-requests", body: body)).status == 400)
        agent.answers[.requestCreate] = nil
        let away = handle(request("POST", "/v1/token-requests", body: body))
        #expect(away.status == 503)
        #expect(away.body.hasPrefix(#"{"error":"agent_unreachable","#))
    }

    @Test("GET status, approved: the original TokenBundle, refresh_token null, scope space-joined")
    func statusApproved() {
        let token: JSONValue = ["access_token": "sk-ant-oat01-abc", "token_type": "Bearer",
                                "expires_at": "2026-11-23T16:00:00Z", "scopes": ["user:inference", "user:profile"]]
        agent.answers[.requestGet] = .success(Self.agentRequest(status: "approved", token: token))
        let result = handle(request("GET", "/v1/token-requests/\(requestID)/status"))
        #expect(result.status == 200)
        #expect(result.body == #"{"request_id":"9b2f1c3e-0a4d-4e5f-8a6b-7c8d9e0f1a2b","status":"approved","token":{"access_token":"sk-ant-oat01-abc","refresh_token":null,"expires_at":"2026-11-23T16:00:00Z","token_type":"Bearer","scope":"user:inference user:profile"},"error":null}"#)
        #expect(agent.calls.first?.fields == ["request_id": .string(requestID)])
    }

    @Test("GET status: pending, in_progress and errors pass; expired reads as error")
    func statusOthers() {
        agent.answers[.requestGet] = .success(Self.agentRequest(status: "in_progress"))
        #expect(handle(request("GET", "/v1/token-requests/\(requestID)/status")).body
                == #"{"request_id":"9b2f1c3e-0a4d-4e5f-8a6b-7c8d9e0f1a2b","status":"in_progress","token":null,"error":null}"#)
        agent.answers[.requestGet] = .success(Self.agentRequest(status: "error", error: "control browser: refused"))
        #expect(handle(request("GET", "/v1/token-requests/\(requestID)/status")).body
                == #"{"request_id":"9b2f1c3e-0a4d-4e5f-8a6b-7c8d9e0f1a2b","status":"error","token":null,"error":"control browser: refused"}"#)
        agent.answers[.requestGet] = .success(Self.agentRequest(status: "expired"))
        #expect(handle(request("GET", "/v1/token-requests/\(requestID)/status")).body
                == #"{"request_id":"9b2f1c3e-0a4d-4e5f-8a6b-7c8d9e0f1a2b","status":"error","token":null,"error":"the request expired"}"#)
    }

    @Test("GET status: unknown id 404 request_not_found, malformed id 400 invalid_request_id")
    func statusErrors() {
        agent.answers[.requestGet] = .failure(AgentClientError(.notFound, "no token request"))
        let unknown = handle(request("GET", "/v1/token-requests/\(requestID)/status"))
        #expect(unknown.status == 404)
        #expect(unknown.body.hasPrefix(#"{"error":"request_not_found","#))
        let malformed = handle(request("GET", "/v1/token-requests/12345/status"))
        #expect(malformed.status == 400)
        #expect(malformed.body.hasPrefix(#"{"error":"invalid_request_id","#))
        #expect(agent.calls.count == 1)
    }

    @Test("select-account: the secret, then 200 with the agent's status and the account id")
    func selectAccount() {
        var answer = Self.agentRequest(status: "in_progress")
        answer["account_id"] = 3
        agent.answers[.requestSelectAccount] = .success(answer)
        let path = "/v1/token-requests/\(requestID)/select-account"
        #expect(handle(request("POST", path, body: #"{"account_id": 3}"#)).status == 401)
        let result = handle(request("POST", path, headers: [bearer], body: #"{"account_id": 3}"#))
        #expect(result.status == 200)
        #expect(result.body == #"{"request_id":"9b2f1c3e-0a4d-4e5f-8a6b-7c8d9e0f1a2b","status":"in_progress","account_id":3}"#)
        #expect(agent.calls.first?.fields == ["request_id": .string(requestID), "account": 3])
    }

    @Test("select-account errors: 400, 404, 409, 502")
    func selectAccountErrors() {
        let path = "/v1/token-requests/\(requestID)/select-account"
        for body in [#"{"account_id": -1}"#, #"{"account_id": 4294967296}"#, #"{"account_id": "3"}"#, #"{}"#, "x"] {
            #expect(handle(request("POST", path, headers: [bearer], body: body)).status == 400, "\(body)")
        }
        #expect(handle(request("POST", "/v1/token-requests/nope/select-account", headers: [bearer], body: #"{"account_id": 3}"#)).status == 400)
        let cases: [(AgentClientError.Code, Int, String)] = [
            (.notFound, 404, "request_not_found"), (.invalidStatus, 409, "invalid_status_for_select"),
            (.controlBrowserFailed, 502, "control_browser_unreachable"), (.locked, 423, "locked"),
        ]
        for (code, status, error) in cases {
            agent.answers[.requestSelectAccount] = .failure(AgentClientError(code, "why"))
            let result = handle(request("POST", path, headers: [bearer], body: #"{"account_id": 3}"#))
            #expect(result.status == status)
            #expect(result.body == #"{"error":"\#(error)","message":"why"}"#)
        }
    }

    @Test("cancel: 200 cancelled, 409 when already decided")
    func cancel() {
        agent.answers[.requestCancel] = .success(Self.agentRequest(status: "cancelled"))
        let path = "/v1/token-requests/\(requestID)/cancel"
        let result = handle(request("POST", path, headers: [bearer]))
        #expect(result.status == 200)
        #expect(result.body == #"{"request_id":"9b2f1c3e-0a4d-4e5f-8a6b-7c8d9e0f1a2b","status":"cancelled"}"#)
        agent.answers[.requestCancel] = .failure(AgentClientError(.invalidStatus, "already approved"))
        #expect(handle(request("POST", path, headers: [bearer])).status == 409)
        #expect(handle(request("POST", path)).status == 401)
    }

    @Test("callback: missing code or state is a JSON 400; the code goes to the agent")
    func callback() {
        #expect(handle(request("GET", "/oauth/callback?state=s")).body.hasPrefix(#"{"error":"missing_code","#))
        #expect(handle(request("GET", "/oauth/callback?code=c")).body.hasPrefix(#"{"error":"missing_state","#))
        #expect(handle(request("GET", "/oauth/callback?error=access_denied")).body.hasPrefix(#"{"error":"missing_state","#))
        agent.answers[.oauthCallback] = .success(Self.agentRequest(status: "approved"))
        let result = handle(request("GET", "/oauth/callback?code=the%2Fcode&state=st"))
        #expect(result.status == 200)
        #expect(result.body.contains("You may close this window."))
        #expect(result.response.headers["Content-Type"] == "text/html; charset=utf-8")
        #expect(agent.calls.last?.fields == ["state": "st", "code": "the/code"])
    }

    @Test("callback: a provider error is forwarded; denied is a 200 page, invalid state a 400 page")
    func callbackErrors() {
        agent.answers[.oauthCallback] = .failure(AgentClientError(.denied, "the provider answered access_denied"))
        let denied = handle(request("GET", "/oauth/callback?error=access_denied&error_description=no+thanks&state=st"))
        #expect(denied.status == 200)
        #expect(denied.body.contains("denied"))
        #expect(agent.calls.last?.fields == ["state": "st", "error": "access_denied", "error_description": "no thanks"])
        agent.answers[.oauthCallback] = .failure(AgentClientError(.invalidState, "unknown state"))
        #expect(handle(request("GET", "/oauth/callback?code=c&state=bad")).status == 400)
        agent.answers[.oauthCallback] = .failure(AgentClientError(.loginFailed, "exchange <b>failed</b>"))
        let failed = handle(request("GET", "/oauth/callback?code=c&state=st"))
        #expect(failed.status == 500)
        #expect(failed.body.contains("exchange &lt;b&gt;failed&lt;/b&gt;"))
    }

    @Test("healthz: the agent's pid, or 503")
    func health() {
        let down = handle(request("GET", "/healthz"))
        #expect(down.status == 503)
        // Bridge.md's shape, members in this order.
        #expect(down.body.hasPrefix(#"{"ok":false,"error":"agent_unreachable","message":""#))
        agent.answers[.status] = .success(["pid": 4242, "version": "0.1.0", "socket": "/x"])
        let result = handle(request("GET", "/healthz"))
        #expect(result.status == 200)
        #expect(result.body == #"{"ok":true,"agent_pid":4242}"#)
    }

    @Test("the lists need the secret and pass the agent's objects through")
    func lists() {
        agent.answers[.requestList] = .success(["requests": [.object(Self.agentRequest(status: "pending"))]])
        agent.answers[.accountList] = .success(["accounts": [["id": 1, "account": "work"]]])
        #expect(handle(request("GET", "/v1/token-requests")).status == 401)
        #expect(handle(request("GET", "/v1/accounts")).status == 401)
        let requests = handle(request("GET", "/v1/token-requests", headers: [bearer]))
        #expect(requests.status == 200)
        #expect(requests.body == JSONValue.object(["requests": [.object(Self.agentRequest(status: "pending"))]]).jsonText)
        #expect(handle(request("GET", "/v1/accounts", headers: [bearer])).body == #"{"accounts":[{"id":1,"account":"work"}]}"#)
        agent.answers[.accountList] = .failure(AgentClientError(.locked, "locked"))
        #expect(handle(request("GET", "/v1/accounts", headers: [bearer])).status == 423)
    }

    @Test("unknown route 404 not_found; wrong method 405 with Allow")
    func notFoundAndMethod() {
        let missing = handle(request("GET", "/nope"))
        #expect(missing.status == 404)
        #expect(missing.body.hasPrefix(#"{"error":"not_found","#))
        let wrong = handle(request("PUT", "/healthz", body: ""))
        #expect(wrong.status == 405)
        #expect(wrong.response.headers["Allow"] == "GET, HEAD")
    }

    @Test("Host and Origin are checked before anything else")
    func checksFirst() {
        #expect(handle(request("GET", "/healthz", host: "evil.example:7777")).status == 403)
        #expect(handle(request("GET", "/nope", host: "evil.example:7777")).status == 403)
        #expect(handle(request("POST", "/v1/token-requests", headers: [("Origin", "https://evil.example")], body: "{}")).status == 403)
        #expect(agent.calls.isEmpty)
    }

    @Test("the cookie flow: /?token= sets the cookie and drops the token from the URL")
    func cookieFlow() {
        let login = handle(request("GET", "/?token=\(testSecret.value)"))
        #expect(login.status == 303)
        #expect(login.response.headers["Location"] == "/")
        let cookie = login.response.headers["Set-Cookie"]
        #expect(cookie == "claude_agent_bridge=\(testSecret.value); HttpOnly; SameSite=Strict; Path=/")
        #expect(handle(request("GET", "/?token=wrong")).status == 401)
        #expect(handle(request("GET", "/")).status == 401)
        agent.answers[.requestList] = .success(["requests": []])
        agent.answers[.accountList] = .success(["accounts": []])
        let page = handle(request("GET", "/", headers: [("Cookie", "claude_agent_bridge=\(testSecret.value)")]))
        #expect(page.status == 200)
        #expect(page.body.contains("No token requests are waiting."))
    }

    @Test("the page's approve form: same origin, cookie, then select_account and 303 back")
    func approveForm() {
        let cookie = ("Cookie", "claude_agent_bridge=\(testSecret.value)")
        let origin = ("Origin", "http://127.0.0.1:7777")
        let form = ("Content-Type", "application/x-www-form-urlencoded")
        let path = "/ui/requests/\(requestID)/approve"
        agent.answers[.requestSelectAccount] = .success(Self.agentRequest(status: "in_progress"))
        #expect(handle(request("POST", path, headers: [origin, form], body: "account_id=2")).status == 401)
        #expect(handle(request("POST", path, headers: [("Origin", "http://evil.example"), cookie, form], body: "account_id=2")).status == 403)
        let picked = handle(request("POST", path, headers: [origin, cookie, form], body: "account_id=2&new_account_id="))
        #expect(picked.status == 303)
        #expect(picked.response.headers["Location"] == "/")
        #expect(agent.calls.last?.fields == ["request_id": .string(requestID), "account": 2])
        _ = handle(request("POST", path, headers: [origin, cookie, form], body: "account_id=&new_account_id=17"))
        #expect(agent.calls.last?.fields == ["request_id": .string(requestID), "account": 17])
        #expect(handle(request("POST", path, headers: [origin, cookie, form], body: "account_id=")).response.headers["Location"]
                == "/?error=invalid_account")
        agent.answers[.requestSelectAccount] = .failure(AgentClientError(.invalidStatus, "decided"))
        #expect(handle(request("POST", path, headers: [origin, cookie, form], body: "account_id=2")).response.headers["Location"]
                == "/?error=invalid_status")
    }

    @Test("the page's deny form denies and comes back")
    func denyForm() {
        agent.answers[.requestDeny] = .success(Self.agentRequest(status: "denied"))
        let result = handle(request("POST", "/ui/requests/\(requestID)/deny",
                                    headers: [("Cookie", "claude_agent_bridge=\(testSecret.value)")]))
        #expect(result.status == 303)
        #expect(agent.calls.last?.op == .requestDeny)
        #expect(agent.calls.last?.fields["request_id"] == .string(requestID))
    }
}
