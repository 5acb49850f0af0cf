import AgentCrypto
import AgentProtocol
import ClaudeAgentClient
import HTTPCodec

/// The approval page: the waiting token requests, who asks for them, and a form per
/// request to approve with an account or deny.
///
/// Plain HTML and CSS from the binary, no external assets. It works without JavaScript
/// (forms post and come back with 303); with JavaScript, a small inline script polls
/// `GET /v1/token-requests` every 2 s and updates the table in place, keeping any
/// selection the person is making. Every value from the agent or the request is escaped
/// (`HTML.escape`); the script builds rows with `textContent`, never with markup. A
/// Content-Security-Policy allows only this script and style (by hash) and only
/// same-origin fetches and form posts.
public enum ApprovalPage {
    /// The page as a response, with its policy headers.
    public static func response(requests: [JSONObject], accounts: [JSONObject], problems: [String], now: Int64) -> HTTPResponse {
        var response = HTTPResponse.html(200, render(requests: requests, accounts: accounts, problems: problems, now: now))
        response.headers.append("Content-Security-Policy", contentSecurityPolicy)
        return response
    }

    public static func render(requests: [JSONObject], accounts: [JSONObject], problems: [String], now: Int64) -> String {
        var html = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>claude-agent: token requests</title>
            <style>\(style)</style>
            </head>
            <body>
            <h1>Token requests</h1>

            """
        for problem in problems {
            html += "<p class=\"problem\">\(HTML.escape(problem))</p>\n"
        }
        html += """
            <table>
            <thead><tr><th>Client</th><th>Host</th><th>Scopes</th><th>Caller</th><th>Age</th><th>Status</th><th>Decision</th></tr></thead>
            <tbody id="request-rows">

            """
        for request in requests {
            html += row(request, accounts: accounts, now: now)
        }
        html += """
            </tbody>
            </table>
            <p id="no-requests"\(requests.isEmpty ? "" : " hidden")>No token requests are waiting.</p>
            <p class="hint">An account marked "lacks" holds no token with every scope the request asks for: approving with it signs that account in again, asking for them.</p>
            <h2>Accounts</h2>
            <table>
            <thead><tr><th>Id</th><th>Account</th><th>Who</th><th>State</th><th>Expires</th><th>Scopes</th></tr></thead>
            <tbody id="account-rows">

            """
        for account in accounts {
            html += "<tr>" + [
                text(account["id"]), text(account["account"]), who(account), text(account["state"]),
                text(account["expires_at"]), scopesText(account["scopes"]),
            ].map { "<td>\(HTML.escape($0))</td>" }.joined() + "</tr>\n"
        }
        html += """
            </tbody>
            </table>
            <p id="no-accounts"\(accounts.isEmpty ? "" : " hidden")>The agent holds no accounts yet; approving with a new account number signs that account in.</p>
            <script>\(script)</script>
            </body>
            </html>

            """
        return html
    }

    /// One request's row. The script relies on `data-id` and the `age`/`status` classes.
    static func row(_ request: JSONObject, accounts: [JSONObject], now: Int64) -> String {
        let id = text(request["request_id"])
        let escapedID = HTML.escape(id)
        let caller = request["caller"]?.objectValue
        let pid = caller?["pid"]?.intValue.map(String.init) ?? "?"
        let executable = caller?["executable"]?.stringValue ?? ""
        let created = request["created_at"]?.stringValue ?? ""
        let age = RFC3339.parse(created).map { duration(now - $0) } ?? ""
        let preferred = request["account_id"]?.intValue ?? request["preferred_account"]?.intValue
        let wanted = (request["scopes"]?.arrayValue ?? []).compactMap(\.stringValue)
        func missing(_ account: JSONObject) -> [String] {
            let held = Set((account["scopes"]?.arrayValue ?? []).compactMap(\.stringValue))
            return wanted.filter { !held.contains($0) }
        }
        // Without a preference, the first account that covers the request is offered first.
        let chosen = preferred ?? accounts.first { missing($0).isEmpty }?["id"]?.intValue
        var options = ""
        for account in accounts {
            guard let accountID = account["id"]?.intValue else { continue }
            let selected = accountID == chosen ? " selected" : ""
            let missing = missing(account)
            // The account's email and organization, when the provider named them, tell
            // apart accounts whose names say little ("1", "work").
            let facts = who(account).isEmpty ? "" : " \u{2014} \(who(account))"
            var label = "\(text(account["account"]))\(facts) (#\(accountID))"
            var marker = ""
            if !missing.isEmpty {
                // Selecting it still works, but through a new sign-in asking for the
                // scopes: say so before someone picks it expecting an instant approval.
                label += ": lacks \(missing.joined(separator: " ")), signs in again"
                marker = " class=\"lacks-scopes\""
            }
            options += "<option value=\"\(accountID)\"\(selected)\(marker)>\(HTML.escape(label))</option>"
        }
        options += "<option value=\"\">new account…</option>"
        return """
            <tr data-id="\(escapedID)">\
            <td>\(HTML.escape(text(request["client_name"])))</td>\
            <td>\(HTML.escape(text(request["hostname"])))</td>\
            <td>\(HTML.escape(scopesText(request["scopes"])))</td>\
            <td>pid \(HTML.escape(pid)) <code>\(HTML.escape(executable))</code></td>\
            <td class="age" data-created="\(HTML.escape(created))">\(HTML.escape(age))</td>\
            <td class="status">\(HTML.escape(text(request["status"])))</td>\
            <td><form method="post" action="/ui/requests/\(escapedID)/approve">\
            <select name="account_id" aria-label="Account">\(options)</select> \
            <input type="text" inputmode="numeric" pattern="[0-9]{1,10}" name="new_account_id" placeholder="new account number" aria-label="New account number"> \
            <button type="submit">Approve</button></form> \
            <form method="post" action="/ui/requests/\(escapedID)/deny"><button type="submit" class="deny">Deny</button></form></td>\
            </tr>

            """
    }

    /// A small page with one message (the OAuth callback's answers, the 401 page), with
    /// the page's policy headers.
    public static func messageResponse(_ status: Int, title: String, text: String) -> HTTPResponse {
        var response = HTTPResponse.html(status, message(title: title, text: text))
        response.headers.append("Content-Security-Policy", contentSecurityPolicy)
        return response
    }

    public static func message(title: String, text: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><title>claude-agent: \(HTML.escape(title))</title><style>\(style)</style></head>
        <body><h1>\(HTML.escape(title))</h1><p>\(HTML.escape(text))</p></body>
        </html>

        """
    }

    // MARK: Notices after a form post

    /// What a failed form action redirects with (`/?error=<code>`): the bridge's error code
    /// for the failure, or one of the page's own. Only these fixed sentences reach the
    /// page, never the text of the URL.
    enum Notice: RawRepresentable, Equatable {
        /// A failure the bridge has a code for (`HTTPErrorCode`).
        case code(HTTPErrorCode)
        /// The approve form named no account, or not one that can be.
        case invalidAccount
        /// Any other failure.
        case failed

        init(_ code: AgentClientError.Code) {
            switch code {
            case .notFound: self = .code(.requestNotFound)
            case .invalidStatus: self = .code(.invalidStatus)
            case .controlBrowserFailed: self = .code(.controlBrowserUnreachable)
            case .locked: self = .code(.locked)
            case .agentNotRunning, .io: self = .code(.agentUnreachable)
            case .badRequest: self = .invalidAccount
            default: self = .failed
            }
        }

        init?(rawValue: String) {
            if let code = HTTPErrorCode(rawValue: rawValue) {
                self = .code(code)
            } else if let own = [Notice.invalidAccount, .failed].first(where: { $0.rawValue == rawValue }) {
                self = own
            } else {
                return nil
            }
        }

        var rawValue: String {
            switch self {
            case .code(let code): return code.rawValue
            case .invalidAccount: return "invalid_account"
            case .failed: return "failed"
            }
        }

        var text: String {
            switch self {
            case .code(.requestNotFound): return "That request no longer exists."
            case .code(.invalidStatus): return "That request was already decided."
            case .code(.controlBrowserUnreachable): return "The control browser could not open the sign-in page, so the request failed."
            case .code(.locked): return "The agent is locked: unlock it (claude-agent unlock) to approve."
            case .code(.agentUnreachable): return "The agent is not running."
            case .invalidAccount: return "Choose an account, or type a new account number."
            case .code(.invalidApprovalID): return "That is not a request id."
            case .code, .failed: return "The action failed."
            }
        }
    }

    // MARK: Pieces

    /// `alice@example.com (Example Org)` from an account summary's display facts, or "".
    static func who(_ account: JSONObject) -> String {
        switch (account["email"]?.stringValue, account["organization"]?.stringValue) {
        case (let email?, let organization?): return "\(email) (\(organization))"
        case (let email?, nil): return email
        case (nil, let organization?): return organization
        case (nil, nil): return ""
        }
    }

    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let string)?: return string
        case .int(let int)?: return String(int)
        case .bool(let bool)?: return bool ? "yes" : "no"
        default: return ""
        }
    }

    static func scopesText(_ value: JSONValue?) -> String {
        (value?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ")
    }

    /// "42 s", "3 min", "2 h": as the script writes ages.
    static func duration(_ seconds: Int64) -> String {
        let seconds = max(0, seconds)
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h"
    }

    static let style = """
        body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b;background:#fafafa}\
        table{border-collapse:collapse;margin:1rem 0;width:100%}\
        th,td{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left;vertical-align:top}\
        th{background:#eee}code{font-size:.9em;word-break:break-all}\
        form{display:inline}input[name=new_account_id]{width:11em}option.lacks-scopes{color:#8a5a00}\
        button{margin-left:.3rem}button.deny{color:#a00}\
        .problem{background:#fee;border:1px solid #c99;padding:.5rem}
        """

    /// How often the open page asks the bridge for requests and accounts again: new
    /// requests show within a couple of seconds, at a few cheap calls a second at most.
    static let refreshIntervalMilliseconds: Int64 = 2_000

    static let script = """
        "use strict";
        (function () {
          var rows = document.getElementById("request-rows");
          var noRequests = document.getElementById("no-requests");
          var accountRows = document.getElementById("account-rows");
          var noAccounts = document.getElementById("no-accounts");
          var accounts = [];
          // Not "who": the request row's caller cell is a variable of that name.
          function accountFacts(account) {
            if (account.email && account.organization) { return account.email + " (" + account.organization + ")"; }
            return account.email || account.organization || "";
          }
          var byID = {};
          Array.prototype.forEach.call(rows.rows, function (row) { byID[row.getAttribute("data-id")] = row; });
          function el(name, attributes, text) {
            var node = document.createElement(name);
            Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
            if (text !== undefined) { node.textContent = text; }
            return node;
          }
          function age(created) {
            var s = Math.max(0, Math.floor((Date.now() - Date.parse(created)) / 1000));
            if (isNaN(s)) { return ""; }
            if (s < 60) { return s + " s"; }
            if (s < 3600) { return Math.floor(s / 60) + " min"; }
            return Math.floor(s / 3600) + " h";
          }
          function newRow(request) {
            var id = request.request_id;
            var caller = request.caller || {};
            var row = el("tr", {"data-id": id});
            row.appendChild(el("td", {}, request.client_name || ""));
            row.appendChild(el("td", {}, request.hostname || ""));
            row.appendChild(el("td", {}, (request.scopes || []).join(" ")));
            var who = el("td", {}, "pid " + (caller.pid === undefined ? "?" : caller.pid) + " ");
            who.appendChild(el("code", {}, caller.executable || ""));
            row.appendChild(who);
            row.appendChild(el("td", {"class": "age", "data-created": request.created_at || ""}));
            row.appendChild(el("td", {"class": "status"}));
            var decision = el("td");
            var approve = el("form", {method: "post", action: "/ui/requests/" + encodeURIComponent(id) + "/approve"});
            var select = el("select", {name: "account_id", "aria-label": "Account"});
            var preferred = request.account_id !== null && request.account_id !== undefined ? request.account_id : request.preferred_account;
            var wanted = request.scopes || [];
            function missingOf(account) {
              var held = account.scopes || [];
              return wanted.filter(function (scope) { return held.indexOf(scope) < 0; });
            }
            if (preferred === null || preferred === undefined) {
              var covering = accounts.filter(function (account) { return missingOf(account).length === 0; })[0];
              if (covering) { preferred = covering.id; }
            }
            accounts.forEach(function (account) {
              var missing = missingOf(account);
              var facts = accountFacts(account);
              var label = account.account + (facts ? " \\u2014 " + facts : "") + " (#" + account.id + ")";
              if (missing.length > 0) { label += ": lacks " + missing.join(" ") + ", signs in again"; }
              var option = el("option", missing.length > 0 ? {value: String(account.id), "class": "lacks-scopes"} : {value: String(account.id)}, label);
              if (account.id === preferred) { option.selected = true; }
              select.appendChild(option);
            });
            select.appendChild(el("option", {value: ""}, "new account\\u2026"));
            approve.appendChild(select);
            approve.appendChild(document.createTextNode(" "));
            approve.appendChild(el("input", {type: "text", inputmode: "numeric", pattern: "[0-9]{1,10}", name: "new_account_id",
                                             placeholder: "new account number", "aria-label": "New account number"}));
            approve.appendChild(document.createTextNode(" "));
            approve.appendChild(el("button", {type: "submit"}, "Approve"));
            var deny = el("form", {method: "post", action: "/ui/requests/" + encodeURIComponent(id) + "/deny"});
            deny.appendChild(el("button", {type: "submit", "class": "deny"}, "Deny"));
            decision.appendChild(approve);
            decision.appendChild(document.createTextNode(" "));
            decision.appendChild(deny);
            row.appendChild(decision);
            return row;
          }
          function renderRequests(requests) {
            var seen = {};
            requests.forEach(function (request) {
              var id = request.request_id;
              seen[id] = true;
              var row = byID[id];
              if (!row) { row = newRow(request); byID[id] = row; rows.appendChild(row); }
              row.querySelector(".status").textContent = request.status;
              var ageCell = row.querySelector(".age");
              ageCell.textContent = age(ageCell.getAttribute("data-created"));
            });
            Object.keys(byID).forEach(function (id) {
              if (!seen[id]) { byID[id].remove(); delete byID[id]; }
            });
            noRequests.hidden = requests.length > 0;
          }
          function renderAccounts(list) {
            accounts = list;
            while (accountRows.firstChild) { accountRows.removeChild(accountRows.firstChild); }
            list.forEach(function (account) {
              var row = el("tr");
              [account.id, account.account, accountFacts(account), account.state, account.expires_at, (account.scopes || []).join(" ")].forEach(function (value) {
                row.appendChild(el("td", {}, value === null || value === undefined ? "" : String(value)));
              });
              accountRows.appendChild(row);
            });
            noAccounts.hidden = list.length > 0;
          }
          function get(path) {
            return fetch(path, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
              if (!response.ok) { throw new Error(path + ": " + response.status); }
              return response.json();
            });
          }
          function poll() {
            get("/v1/accounts").then(function (body) { renderAccounts(body.accounts || []); }, function () {})
              .then(function () { return get("/v1/token-requests"); })
              .then(function (body) { renderRequests(body.requests || []); }, function () {});
          }
          poll();
          setInterval(poll, \(refreshIntervalMilliseconds));
        })();
        """

    /// Only this page's own script and style run; fetches and form posts stay on this
    /// origin; no framing.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src '\(hash(script))'; style-src '\(hash(style))'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// A CSP source hash: `sha256-` and the standard base64 of the text's digest.
    static func hash(_ text: String) -> String {
        "sha256-" + Base64.encode(SHA256.hash(text))
    }
}
