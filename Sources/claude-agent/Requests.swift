import AgentArguments
import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient

/// `requests`, `approve`, `deny`, and the waiting part of `token --wait`.
enum Requests {
    static func list(_ arguments: [String]) {
        let parsed = CommandTable.parse("requests", arguments)
        let client = Commands.client(parsed)
        if parsed.has("--json") {
            let entries = Commands.run { () throws(AgentClientError) in
                try ListPages.collect(.requestList, key: "requests") { op, fields throws(AgentClientError) in try client.call(op, fields) }
            }
            Output.out(String(decoding: JSONValue.array(entries).serialized(pretty: true), as: UTF8.self) + "\n")
            return
        }
        let requests = Commands.run { () throws(AgentClientError) in try client.listRequests() }
        guard !requests.isEmpty else {
            Output.out("No token requests are waiting.\n")
            return
        }
        let now = Clock.unixSeconds()
        let rows = [["ID", "STATUS", "AGE", "PID", "EXECUTABLE", "CLIENT", "HOST", "SCOPES"]] + requests.map {
            [$0.id, $0.status.rawValue, Commands.duration(now - ($0.createdAt ?? now)), $0.callerPID.map(String.init) ?? "-",
             $0.callerExecutable ?? "-", $0.clientName, host($0), Scopes.joined($0.scopes)]
        }
        Output.out(Commands.table(rows))
    }

    /// The host a request names, and how it reached the agent when it came through a
    /// forwarded socket: "build1 (via ssh alice@build1)".
    static func host(_ request: ApprovalRequestInfo) -> String {
        guard let via = request.forwardedVia else { return request.hostname }
        return "\(request.hostname) (via \(via)\(request.forwardedTo.map { " " + $0 } ?? ""))"
    }

    /// Approves a request with an account: at once when the agent holds a token for it,
    /// else through an authorization that the control browser opens (or, with
    /// --print-url, that this command prints). Either way it then waits on the request's
    /// state in the agent, so it ends when the request does, whichever way the
    /// authorization comes back: its own loopback listener, a pasted code, the bridge's
    /// callback, or a person denying it meanwhile.
    static func approve(_ arguments: [String]) {
        let parsed = CommandTable.parse("approve", arguments)
        let approvalID = parsed.positionals[0]
        guard let accountText = parsed.value("--account") else { Output.usage("--account is required", command: "approve") }
        let timeoutSeconds = CommandTable.seconds(parsed, "--timeout", command: "approve") ?? NumberRange.defaultWaitSeconds
        let account = AccountReference(text: accountText)
        let client = Commands.client(parsed)
        // The provider redirects to this command's own listener where it may (so an
        // approval needs no bridge running); the control browser, or the user with
        // --print-url, only opens the URL.
        let provider = Commands.run { () throws(AgentClientError) in try client.provider(named: nil, account: account) }
        let listener = CallbackListener.open(for: provider, port: nil, command: "approve")
        defer { listener?.close() }
        let printURL = parsed.has("--print-url")
        let approval = Commands.run { () throws(AgentClientError) in
            try client.selectAccount(approvalID, account: account, printURL: printURL, redirectURI: listener?.uri)
        }
        let name = approval.account ?? accountText
        // The approver may know better, but should know they chose otherwise.
        if let preferred = approval.preferredAccount, preferred != approval.account,
           preferred != approval.accountID.map({ String($0) }) {
            Output.warn("request \(approvalID) asked for account \(preferred); approving it with account \(name)")
        }
        if approval.status == .approved {
            Output.err("Approved request \(approvalID) with account \(name).\n")
            return
        }
        if let state = approval.authorizationState {
            if printURL {
                guard let url = approval.authorizeURL else { Output.fail(.protocolViolation, "the agent gave no authorize URL") }
                Output.out(url + "\n")
                Output.err("Open the URL above in account \(name)'s browser to approve request \(approvalID).\n")
            } else {
                Output.err("The control browser is opening the authorization for account \(name).\n")
            }
            if provider.paste { Output.err("Then paste the code it shows here.\n") }
            waitForApproval(approvalID, state: state, listener: listener, client: client, timeoutSeconds: timeoutSeconds)
        } else {
            // Approved once the account's token is refreshed: nothing to relay.
            waitForApproval(approvalID, state: nil, listener: nil, client: client, timeoutSeconds: timeoutSeconds)
        }
        Output.err("Approved request \(approvalID) with account \(name).\n")
    }

    /// Waits for request `approvalID` to end, with `request.wait` on a connection of its own, while
    /// relaying what reaches `listener` or stdin (a pasted code) for authorization `state`.
    /// Returns when the request is approved; any other end fails the command with its code.
    static func waitForApproval(_ approvalID: String, state: String?, listener: CallbackListener?, client: AgentClient, timeoutSeconds: Int64) {
        let waiter = AgentClient(socketPath: client.socketPath)
        let waitRPCID = Commands.run { () throws(AgentClientError) in
            try waiter.send(.requestWait, ["request_id": .string(approvalID), "timeout": .int(timeoutSeconds)])
        }
        client.timeoutMilliseconds = AgentClient.providerCallWaitMilliseconds
        var readStdin = state != nil
        let progress = FileDescriptor.standardError.isTerminal
        let began = Clock.monotonicMilliseconds()
        // The agent answers the wait by its own deadline; this one only guards against an
        // agent that never does.
        let deadline = began.saturatingAdding(AgentClient.answerWaitMilliseconds(forWaitSeconds: timeoutSeconds))
        while true {
            let now = Clock.monotonicMilliseconds()
            if now >= deadline { Output.fail(.timeout, "the agent did not answer the wait for request \(approvalID)") }
            if progress { Output.err("\rWaiting for the approval of request \(approvalID)... \((now - began) / 1000)s ") }
            guard let waitDescriptor = waiter.descriptor else { Output.fail(.io, "the connection to the agent closed") }
            var set = PollSet()
            set.add(waitDescriptor, .readable)
            var listenerIndex: Int?
            var stdinIndex: Int?
            if let listener, state != nil {
                listenerIndex = set.count
                for descriptor in listener.descriptors { set.add(descriptor, .readable) }
            }
            if readStdin {
                stdinIndex = set.count
                set.add(.standardInput, .readable)
            }
            _ = try? set.wait(timeoutMilliseconds: Int32(min(AgentClient.waitSliceMilliseconds, deadline - now)))
            if !set.returnedEvents(at: 0).isEmpty {
                let answer: JSONObject?
                do throws(AgentClientError) {
                    answer = try waiter.availableAnswer(to: waitRPCID)
                } catch {
                    if progress { Output.err("\n") }
                    Output.fail(error)
                }
                if let answer {
                    if progress { Output.err("\n") }
                    let status = ApprovalStatus(rawValue: answer["status"]?.stringValue ?? "")
                    if status == .approved { return }
                    failForEnded(approvalID, status: status, error: answer["error"]?.stringValue)
                }
            }
            if let state, let listenerIndex, let listener {
                for (offset, descriptor) in listener.descriptors.enumerated()
                where !set.returnedEvents(at: listenerIndex + offset).isEmpty {
                    // A refused relay (the state already used because the bridge completed
                    // it, a failed exchange) is not the end: the request's state is.
                    _ = try? listener.serveOne(state: state, client: client, from: descriptor)
                }
            }
            if let state, let stdinIndex, !set.returnedEvents(at: stdinIndex).isEmpty {
                guard let line = Terminal.readLine(from: .standardInput) else {
                    readStdin = false
                    continue
                }
                let pasted = PastedCode(line, expectedState: state)
                guard let code = pasted.code else { continue }
                do throws(AgentClientError) {
                    _ = try client.completeLogin(state: pasted.state, code: code)
                } catch {
                    // Not the end: the request's state is (a mistyped paste can be retried).
                    if progress { Output.err("\n") }
                    Output.warn("the pasted code was refused: \(error.code.rawValue): \(error.message)")
                }
            }
        }
    }

    /// A request that ended other than approved: its status as the code, and its reason.
    static func failForEnded(_ approvalID: String, status: ApprovalStatus, error: String?) -> Never {
        let reason = error.map { ": \($0)" } ?? ""
        let ending: String
        switch status {
        case .denied, .cancelled: ending = "was \(status)"
        case .expired: ending = status.rawValue
        default: ending = "ended in \(status)"
        }
        Output.fail(status.failureCode, "request \(approvalID) \(ending)\(reason)")
    }

    static func deny(_ arguments: [String]) {
        let parsed = CommandTable.parse("deny", arguments)
        let approvalID = parsed.positionals[0]
        let client = Commands.client(parsed)
        _ = Commands.run { () throws(AgentClientError) in try client.denyRequest(approvalID, reason: parsed.value("--reason")) }
        Output.err("Denied request \(approvalID).\n")
    }

    /// `token --wait`: makes a request, shows one updating line on a terminal (its id,
    /// the time waited, how to approve), and waits for it on the socket. Ctrl-C ends the
    /// process, which closes the connection, and the agent cancels the request.
    static func waitForToken(client: AgentClient, scopes: [String], account: AccountReference?, timeoutSeconds: Int64) -> AccessToken {
        let approval = Commands.run { () throws(AgentClientError) in
            try client.createRequest(scopes: scopes, account: account, clientName: "claude-agent token")
        }
        let began = Clock.monotonicMilliseconds()
        let progress = FileDescriptor.standardError.isTerminal
        let hint = account.map { "\($0)" } ?? "NAME"
        func show() {
            guard progress else { return }
            let elapsed = (Clock.monotonicMilliseconds() - began) / 1000
            Output.err("\rWaiting for approval of request \(approval.id) (\(elapsed)s): claude-agent approve \(approval.id) --account \(hint) ")
        }
        if !progress {
            Output.err("Waiting for approval of request \(approval.id): claude-agent approve \(approval.id) --account \(hint)\n")
        }
        show()
        let ended = Commands.run { () throws(AgentClientError) in try client.waitForRequest(approval.id, timeoutSeconds: timeoutSeconds, tick: show) }
        if progress { Output.err("\n") }
        if ended.status == .approved, let token = ended.token { return token }
        failForEnded(approval.id, status: ended.status, error: ended.error)
    }
}
