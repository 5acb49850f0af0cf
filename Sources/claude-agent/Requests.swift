import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient

/// `requests`, `approve`, `deny`, and the waiting part of `token --wait`.
enum Requests {
    static func list(_ arguments: [String]) {
        let parsed = Lifecycle.parse(arguments, command: "requests", flags: ["--json": []], options: Commands.socketOption)
        let client = Commands.client(parsed)
        let requests = Commands.run { () throws(AgentClientError) in try client.listRequests() }
        if parsed.has("--json") {
            let result = Commands.run { () throws(AgentClientError) in try client.call(.requestList) }
            Output.out(String(decoding: (result["requests"] ?? .array([])).serialized(pretty: true), as: UTF8.self) + "\n")
            return
        }
        guard !requests.isEmpty else {
            Output.out("No token requests are waiting.\n")
            return
        }
        let now = Clock.unixSeconds()
        let rows = [["ID", "STATUS", "AGE", "PID", "EXECUTABLE", "CLIENT", "HOST", "SCOPES"]] + requests.map {
            [$0.id, $0.status, Commands.duration(now - ($0.createdAt ?? now)), $0.callerPID.map(String.init) ?? "-",
             $0.callerExecutable ?? "-", $0.clientName, $0.hostname, Scopes.joined($0.scopes)]
        }
        Output.out(Commands.table(rows))
    }

    /// Approves a request with an account: at once when the agent holds a token for it,
    /// else through an authorization that the control browser opens (or, with
    /// --print-url, that this command prints and waits for on a loopback listener).
    static func approve(_ arguments: [String]) {
        let parsed: Arguments
        do throws(Arguments.UsageError) {
            parsed = try Arguments(arguments, flags: ["--print-url": []],
                                   options: Commands.socketOption.merging(["--account": [], "--timeout": []]) { a, _ in a })
        } catch {
            Output.usage(error.message, command: "approve")
        }
        guard parsed.positionals.count == 1, let id = parsed.positionals.first else {
            Output.usage("approve takes one request ID", command: "approve")
        }
        guard let accountText = parsed.value("--account") else { Output.usage("--account is required", command: "approve") }
        let timeout = Lifecycle.seconds(parsed, "--timeout", command: "approve") ?? 300
        let account = AccountReference(text: accountText)
        let client = Commands.client(parsed)
        // The provider redirects to this command's own loopback listener, so an approval
        // needs no bridge running; the control browser (or the user, with --print-url)
        // only opens the URL.
        let listener: FileDescriptor
        let redirectURI: String
        do throws(Errno) {
            listener = try TCPSocket.listen(SocketAddress(family: .inet, address: [127, 0, 0, 1], port: 0))
            redirectURI = "http://127.0.0.1:\(try TCPSocket.localAddress(of: listener).port)/oauth/callback"
        } catch {
            Output.fail("cannot listen on 127.0.0.1 for the callback: \(error)", .failure)
        }
        defer { listener.close() }
        let printURL = parsed.has("--print-url")
        let request = Commands.run { () throws(AgentClientError) in
            try client.selectAccount(id, account: account, printURL: printURL, redirectURI: redirectURI)
        }
        let name = request.account ?? accountText
        if request.status == "approved" {
            Output.err("Approved request \(id) with account \(name).\n")
            return
        }
        if printURL {
            guard let url = request.authorizeURL else { Output.fail("protocol_violation: the agent gave no authorize URL", .failure) }
            Output.out(url + "\n")
            Output.err("Open the URL above in account \(name)'s browser to approve request \(id).\n")
        } else {
            Output.err("The control browser is opening the authorization for account \(name).\n")
        }
        guard let state = request.authorizationState else { Output.fail("protocol_violation: the agent gave no state", .failure) }
        let start = LoginStart(account: name, provider: "", authorizeURL: request.authorizeURL ?? "", redirectURI: redirectURI,
                               state: state, paste: false)
        _ = Login.waitForCallback(listener: listener, start: start, client: client, deadline: Clock.monotonicMilliseconds() + timeout * 1000)
        Output.err("Approved request \(id) with account \(name).\n")
    }

    static func deny(_ arguments: [String]) {
        let parsed: Arguments
        do throws(Arguments.UsageError) {
            parsed = try Arguments(arguments, flags: [:], options: Commands.socketOption.merging(["--reason": []]) { a, _ in a })
        } catch {
            Output.usage(error.message, command: "deny")
        }
        guard parsed.positionals.count == 1, let id = parsed.positionals.first else {
            Output.usage("deny takes one request ID", command: "deny")
        }
        let client = Commands.client(parsed)
        _ = Commands.run { () throws(AgentClientError) in try client.denyRequest(id, reason: parsed.value("--reason")) }
        Output.err("Denied request \(id).\n")
    }

    /// `token --wait`: makes a request, shows one updating line on a terminal (its id,
    /// the time waited, how to approve), and waits for it on the socket. Ctrl-C ends the
    /// process, which closes the connection, and the agent cancels the request.
    static func waitForToken(client: AgentClient, scopes: [String], account: AccountReference?, timeout: Int64) -> AccessToken {
        let request = Commands.run { () throws(AgentClientError) in
            try client.createRequest(scopes: scopes, account: account, clientName: "claude-agent token")
        }
        let began = Clock.monotonicMilliseconds()
        let progress = FileDescriptor.standardError.isTerminal
        let hint = account.map { "\($0)" } ?? "NAME"
        func show() {
            guard progress else { return }
            let elapsed = (Clock.monotonicMilliseconds() - began) / 1000
            Output.err("\rWaiting for approval of request \(request.id) (\(elapsed)s): claude-agent approve \(request.id) --account \(hint) ")
        }
        if !progress {
            Output.err("Waiting for approval of request \(request.id): claude-agent approve \(request.id) --account \(hint)\n")
        }
        show()
        let ended = Commands.run { () throws(AgentClientError) in try client.waitForRequest(request.id, timeout: timeout, tick: show) }
        if progress { Output.err("\n") }
        if ended.status == "approved", let token = ended.token { return token }
        let reason = ended.error.map { ": \($0)" } ?? ""
        switch ended.status {
        case "denied": Output.fail("denied: request \(request.id) was denied\(reason)", .denied)
        case "cancelled": Output.fail("cancelled: request \(request.id) was cancelled\(reason)", .denied)
        case "expired": Output.fail("timeout: request \(request.id) expired\(reason)", .denied)
        default: Output.fail("request_failed: request \(request.id) ended in \(ended.status)\(reason)", .denied)
        }
    }
}
