import AgentArguments
import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient
import Glibc

/// `login` and `logout`. The agent does the OAuth work (PKCE, state, code exchange); this
/// command only carries the user to the provider and the provider's redirect back to the
/// agent: through a one-shot loopback listener (RFC 8252) or a pasted code.
enum Login {
    static func login(_ arguments: [String]) {
        let parsed = CommandTable.parse("login", arguments)
        let timeout = CommandTable.seconds(parsed, "--timeout", command: "login") ?? NumberRange.defaultWaitSeconds
        var port: UInt16?
        if let text = parsed.value("--port") {
            guard let value = UInt16(text) else { Output.usage("--port needs a port number", command: "login") }
            port = value
        }
        var accountID: UInt32?
        if let text = parsed.value("--account-id") {
            guard let id = UInt32(text) else { Output.usage("--account-id needs a number", command: "login") }
            accountID = id
        }
        let scopes = parsed.all("--scope").isEmpty ? nil : Scopes.normalize(parsed.all("--scope").flatMap(Scopes.parse))

        let client = Commands.client(parsed)
        let provider = Commands.run { () throws(AgentClientError) in try client.provider(named: parsed.value("--provider")) }
        if provider.paste && port != nil {
            Output.usage("--port does nothing: provider \(provider.name) redirects to its own page (\(provider.redirectURI ?? "")), which shows a code to paste",
                         command: "login")
        }
        // The browser is elsewhere with --no-browser or without a display: the provider's
        // code page then, when it has one (Claude's shows code#state), and no listener.
        let manual = parsed.has("--no-browser") || !hasDisplay
        let codePage = manual && provider.manualRedirectURI != nil
        let listener = codePage ? nil : CallbackListener.open(for: provider, port: port, command: "login")
        defer { listener?.close() }
        let start = Commands.run { () throws(AgentClientError) in
            try client.startLogin(account: parsed.value("--account"), accountID: accountID, provider: provider.name,
                                  redirectURI: listener?.uri, manual: codePage, scopes: scopes)
        }
        Output.out(start.authorizeURL + "\n")
        Output.err("To log in account \(start.account) with \(start.provider), open the URL above in a browser.\n")
        if start.paste || manual { Output.err("Then paste the code it shows here (or the whole URL the browser ends on).\n") }
        if !manual { openBrowser(start.authorizeURL) }

        let deadline = Clock.monotonicMilliseconds().saturatingAdding(timeout.saturatingMultiplied(by: 1000))
        guard case .loggedIn(let summary) = waitForCallback(listener: listener, start: start, client: client, deadline: deadline) else {
            Output.fail(.protocolViolation, "the agent completed something other than this login")
        }
        let expiry = summary.expiresAt.map { ", expires \(RFC3339.format($0))" } ?? ""
        Output.err("Logged in account \(summary.name) (#\(summary.id)), token \(summary.fingerprint)\(expiry)\n")
    }

    /// Serves the loopback listener and reads pasted codes from stdin until one completes
    /// the login or the deadline passes. A callback with another state is refused and
    /// does not end the wait.
    static func waitForCallback(listener: CallbackListener?, start: LoginStart, client: AgentClient, deadline: Int64) -> CallbackOutcome {
        var readStdin = true
        let progress = FileDescriptor.standardError.isTerminal
        let began = Clock.monotonicMilliseconds()
        client.timeoutMilliseconds = AgentClient.providerCallWaitMilliseconds
        while true {
            let now = Clock.monotonicMilliseconds()
            if now >= deadline {
                if progress { Output.err("\n") }
                Output.fail(.timeout, "no callback or pasted code arrived in time")
            }
            if progress { Output.err("\rWaiting for the browser or a pasted code... \((now - began) / 1000)s ") }
            var set = PollSet()
            var stdinIndex: Int?
            let descriptors = listener?.descriptors ?? []
            for descriptor in descriptors { set.add(descriptor, .readable) }
            if readStdin {
                stdinIndex = set.count
                set.add(.standardInput, .readable)
            }
            if set.count == 0 {
                Clock.sleep(milliseconds: min(AgentClient.waitSliceMilliseconds, deadline - now))
                continue
            }
            _ = try? set.wait(timeoutMilliseconds: Int32(min(AgentClient.waitSliceMilliseconds, deadline - now)))
            for (index, descriptor) in descriptors.enumerated() where !set.returnedEvents(at: index).isEmpty {
                guard let listener else { break }
                let outcome = Commands.run { () throws(AgentClientError) in
                    try listener.serveOne(state: start.state, client: client, from: descriptor)
                }
                if let outcome {
                    if progress { Output.err("\n") }
                    return outcome
                }
            }
            if let stdinIndex, !set.returnedEvents(at: stdinIndex).isEmpty {
                guard let line = Terminal.readLine(from: .standardInput) else {
                    // With no listener, only a pasted code can end the login: end of input
                    // means none will come, so waiting out the deadline would only hang.
                    if descriptors.isEmpty {
                        if progress { Output.err("\n") }
                        Output.fail(.usage, "end of input before a code was pasted: paste the code the provider's page shows "
                                    + "(or the URL the browser ends on) on stdin")
                    }
                    readStdin = false
                    continue
                }
                let pasted = PastedCode(line, expectedState: start.state)
                guard let code = pasted.code else { continue }
                if progress { Output.err("\n") }
                return Commands.run { () throws(AgentClientError) in
                    try client.completeLogin(state: pasted.state, code: code)
                }
            }
        }
    }

    /// Whether this session has a display to open a browser on.
    static var hasDisplay: Bool {
        ProcessControl.environment("DISPLAY") != nil || ProcessControl.environment("WAYLAND_DISPLAY") != nil
    }

    /// Opens `url` with xdg-open when there is a display; otherwise the printed URL is enough.
    static func openBrowser(_ url: String) {
        guard hasDisplay, let opener = FileSystem.findOnPath("xdg-open") else { return }
        _ = try? ProcessControl.spawnDetached(opener, arguments: [url])
    }

    static func logout(_ arguments: [String]) {
        let parsed = CommandTable.parse("logout", arguments)
        let account = AccountReference(text: parsed.value("--account") ?? AccountName.defaultName)
        let client = Commands.client(parsed)
        client.timeoutMilliseconds = AgentClient.providerCallWaitMilliseconds
        let result = Commands.run { () throws(AgentClientError) in try client.logout(account, revoke: !parsed.has("--no-revoke")) }
        if result.revoked {
            Output.err("Logged out account \(result.account); its refresh token was revoked.\n")
        } else {
            Output.err("Logged out account \(result.account); refresh token not revoked: \(result.revocationNote ?? "unknown reason").\n")
        }
    }
}

/// What a user pasted: `code#state` (Claude's code page), a whole callback URL, or a bare
/// code (then the state is the login's own).
struct PastedCode {
    var code: String?
    var state: String

    init(_ line: String, expectedState: String) {
        let text = line.trimmingCharacters(in: " \t\r")
        state = expectedState
        if let mark = text.firstIndex(of: "?"), text.contains("code=") {
            let parameters = PercentEncoding.parseQuery(String(text[text.index(after: mark)...])) ?? []
            code = parameters.first { $0.0 == "code" }?.1
            if let given = parameters.first(where: { $0.0 == "state" })?.1 { state = given }
        } else if let hash = text.firstIndex(of: "#") {
            code = String(text[..<hash])
            state = String(text[text.index(after: hash)...])
        } else {
            code = text.isEmpty ? nil : text
        }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return String(text)
    }
}
