import AgentCrypto
import AgentProtocol
import HTTPBridge
import Testing

@Suite("The approval page")
struct ApprovalPageTests {
    let hostile = "<script>alert(\"x\")</script>&'"

    func render(client: String = "cli", executable: String = "/usr/bin/cli", accounts: [JSONObject] = []) -> String {
        var request = RoutesTests.agentRequest(status: "pending")
        request["client_name"] = .string(client)
        request["hostname"] = .string(client)
        request["scopes"] = [.string(client)]
        request["caller"] = ["pid": 123, "uid": 1000, "executable": .string(executable), "command_line": "x"]
        return ApprovalPage.render(requests: [request], accounts: accounts, problems: [client], now: RFC3339.parse("2026-11-23T08:02:05Z") ?? 0)
    }

    @Test("every value from the agent is escaped")
    func escaping() {
        let account: JSONObject = ["id": 4, "account": .string(hostile), "state": .string(hostile), "expires_at": .null, "scopes": [.string(hostile)]]
        let html = render(client: hostile, executable: hostile, accounts: [account])
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("\"x\")"))
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"))
        // Only the page's own script tag is left.
        #expect(html.ranges(of: "<script>").count == 1)
    }

    @Test("the account picker and the accounts table show who each account is (email, organization), escaped")
    func accountFacts() {
        let account: JSONObject = ["id": 2, "account": "work", "state": "ok", "expires_at": .null, "scopes": [],
                                   "email": "alice@example.com", "organization": .string("Org <b>")]
        let html = render(accounts: [account, ["id": 3, "account": "bare", "state": "ok", "expires_at": .null, "scopes": []]])
        #expect(html.contains(">work \u{2014} alice@example.com (Org &lt;b&gt;) (#2)"))
        #expect(html.contains(">bare (#3)"))
        #expect(html.contains("<td>alice@example.com (Org &lt;b&gt;)</td>"))
        #expect(html.contains("<th>Who</th>"))
    }

    @Test("a row shows client, host, scopes, caller pid and executable, age, status and the forms")
    func row() {
        let html = render(accounts: [["id": 3, "account": "work", "scopes": ["cli"]], ["id": 5, "account": "home", "scopes": ["cli"]]])
        #expect(html.contains(#"<tr data-id="\#(requestID)">"#))
        #expect(html.contains("pid 123 <code>/usr/bin/cli</code>"))
        #expect(html.contains(#"<td class="age" data-created="2026-11-23T08:00:00Z">2 min</td>"#))
        #expect(html.contains(#"<td class="status">pending</td>"#))
        #expect(html.contains(#"<form method="post" action="/ui/requests/\#(requestID)/approve">"#))
        #expect(html.contains(#"<form method="post" action="/ui/requests/\#(requestID)/deny">"#))
        #expect(html.contains(#"<option value="3" selected>work (#3)</option><option value="5">home (#5)</option><option value="">new account…</option>"#))
        #expect(html.contains(#"name="new_account_id""#))
    }

    @Test("accounts lacking the request's scopes are marked and say why; the first covering account is offered first")
    func accountsLackingScopes() {
        let html = render(accounts: [["id": 3, "account": "narrow", "scopes": ["other"]], ["id": 5, "account": "wide", "scopes": ["other", "cli"]]])
        #expect(html.contains(#"<option value="3" class="lacks-scopes">narrow (#3): lacks cli, signs in again</option><option value="5" selected>wide (#5)</option>"#))
        #expect(html.contains(#"An account marked "lacks" holds no token with every scope the request asks for"#))
    }

    @Test("the policy allows exactly the page's own script and style, by hash")
    func contentSecurityPolicy() throws {
        let response = ApprovalPage.response(requests: [], accounts: [], problems: [], now: 0)
        let policy = try #require(response.headers["Content-Security-Policy"])
        let html = String(decoding: response.body, as: UTF8.self)
        let start = try #require(html.firstRange(of: "<script>"))
        let end = try #require(html.firstRange(of: "</script>"))
        let script = String(html[start.upperBound..<end.lowerBound])
        #expect(policy.contains("script-src 'sha256-\(Base64.encode(SHA256.hash(script)))'"))
        #expect(policy.contains("default-src 'none'"))
        #expect(policy.contains("form-action 'self'"))
        #expect(policy.contains("frame-ancestors 'none'"))
    }

    @Test("the script builds rows from text, never from markup")
    func scriptUsesText() {
        let response = ApprovalPage.response(requests: [], accounts: [], problems: [], now: 0)
        let html = String(decoding: response.body, as: UTF8.self)
        #expect(!html.contains("innerHTML"))
        #expect(!html.contains("outerHTML"))
        #expect(!html.contains("insertAdjacentHTML"))
        #expect(!html.contains("document.write"))
        #expect(html.contains("textContent"))
        #expect(html.contains("setInterval(poll, 2000)"))
    }

    @Test("a notice code in the URL shows a fixed sentence, never the URL's text")
    func notice() {
        let agent = FakeAgent()
        agent.answers[.requestList] = .success(["requests": []])
        agent.answers[.accountList] = .success(["accounts": []])
        let routes = BridgeRoutes(agent: agent, security: BridgeSecurity(secret: testSecret))
        let cookie = ("Cookie", "claude_agent_bridge=\(testSecret.value)")
        let known = routes.handle(request("GET", "/?error=invalid_status", headers: [cookie]), testConnection)
        #expect(String(decoding: known.body, as: UTF8.self).contains("That request was already decided."))
        let other = routes.handle(request("GET", "/?error=%3Cb%3Ehi", headers: [cookie]), testConnection)
        let text = String(decoding: other.body, as: UTF8.self)
        #expect(text.contains("The action failed."))
        #expect(!text.contains("<b>hi") && !text.contains("&lt;b&gt;hi"))
    }
}
