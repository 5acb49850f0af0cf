import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient
import Glibc

/// `login` and `logout`. The agent does the OAuth work (PKCE, state, code exchange); this
/// command only carries the user to the provider and the provider's redirect back to the
/// agent: through a one-shot loopback listener (RFC 8252) or a pasted code.
enum Login {
    static func login(_ arguments: [String]) {
        let parsed = Lifecycle.parse(arguments, command: "login", flags: ["--no-browser": []],
                                     options: Commands.socketOption.merging(["--account": [], "--account-id": [], "--provider": [],
                                                                             "--scope": [], "--port": [], "--timeout": []]) { a, _ in a })
        let timeout = Lifecycle.seconds(parsed, "--timeout", command: "login") ?? 300
        var port: UInt16 = 0
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

        // The browser is elsewhere with --no-browser or without a display: the provider's
        // code page then (Claude's shows code#state), if it has one.
        let manual = parsed.has("--no-browser") || !hasDisplay
        // Listen first (localhost: 127.0.0.1 and ::1) so the agent can put the port in the
        // redirect URI; the answer says where the provider will really redirect.
        var listener = openListener(host: "localhost", port: port)
        defer { listener?.close() }

        let client = Commands.client(parsed)
        let start = Commands.run { () throws(AgentClientError) in
            try client.startLogin(account: parsed.value("--account"), accountID: accountID, provider: parsed.value("--provider"),
                                  redirectPort: listener?.port, manual: manual, scopes: scopes)
        }
        listener = relisten(listener, for: start)
        Output.out(start.authorizeURL + "\n")
        Output.err("To log in account \(start.account) with \(start.provider), open the URL above in a browser.\n")
        if start.paste { Output.err("Then paste the code it shows here (or the whole URL the browser ends on).\n") }
        if !manual { openBrowser(start.authorizeURL) }

        let deadline = Clock.monotonicMilliseconds() + timeout * 1000
        guard case .loggedIn(let summary) = waitForCallback(listener: listener, start: start, client: client, deadline: deadline) else {
            Output.fail("protocol_violation: the agent completed something other than this login", .failure)
        }
        let expiry = summary.expiresAt.map { ", expires \(RFC3339.format($0))" } ?? ""
        Output.err("Logged in account \(summary.name) (#\(summary.id)), token \(summary.fingerprint)\(expiry)\n")
    }

    /// Whether this session has a display to open a browser on.
    static var hasDisplay: Bool {
        ProcessControl.environment("DISPLAY") != nil || ProcessControl.environment("WAYLAND_DISPLAY") != nil
    }

    /// Loopback listeners for the redirect, or a usage failure naming why not.
    static func openListener(host: String, port: UInt16) -> CallbackListener? {
        do throws(Errno) {
            return try CallbackListener.open(host: host, port: port)
        } catch {
            Output.fail("cannot listen on \(host) port \(port) for the login callback: \(error)", .failure)
        }
    }

    /// The listeners the agent's answer asks for: none when the provider shows the code
    /// on its own page, new ones when it registered a fixed port or another host.
    static func relisten(_ listener: CallbackListener?, for start: LoginStart) -> CallbackListener? {
        guard let port = start.listenPort else {
            listener?.close()
            return nil
        }
        let host = start.listenHost ?? "localhost"
        // The first listeners are localhost's (127.0.0.1, and ::1 where there is IPv6):
        // kept when they serve the answer's port and family.
        if let listener, listener.port == port, host != "[::1]" || listener.descriptors.count == 2 { return listener }
        listener?.close()
        return openListener(host: host, port: port)
    }

    /// Serves the loopback listeners and reads pasted codes from stdin until one completes
    /// the login or the deadline passes. A callback with another state is refused and
    /// does not end the wait.
    static func waitForCallback(listener: CallbackListener?, start: LoginStart, client: AgentClient, deadline: Int64) -> CallbackOutcome {
        var readStdin = true
        let progress = FileDescriptor.standardError.isTerminal
        let began = Clock.monotonicMilliseconds()
        client.timeoutMilliseconds = 60_000
        while true {
            let now = Clock.monotonicMilliseconds()
            if now >= deadline {
                if progress { Output.err("\n") }
                Output.fail("timeout: no callback or pasted code arrived in time", .denied)
            }
            if progress { Output.err("\rWaiting for the browser or a pasted code... \((now - began) / 1000)s ") }
            var set = PollSet()
            let descriptors = listener?.descriptors ?? []
            for descriptor in descriptors { set.add(descriptor, .readable) }
            if readStdin { set.add(.standardInput, .readable) }
            _ = try? set.wait(timeoutMilliseconds: Int32(min(1000, deadline - now)))
            for (index, descriptor) in descriptors.enumerated() where !set.returnedEvents(at: index).isEmpty {
                if let (fd, _) = try? TCPSocket.accept(descriptor),
                   let summary = serveCallback(fd, start: start, client: client, progress: progress) {
                    return summary
                }
            }
            if readStdin && set.count > descriptors.count && !set.returnedEvents(at: descriptors.count).isEmpty {
                guard let line = Terminal.readLine(from: .standardInput) else {
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

    /// Reads one HTTP request from the browser; for our callback, relays it to the agent
    /// and shows the outcome in the page. Returns the account once logged in.
    static func serveCallback(_ fd: FileDescriptor, start: LoginStart, client: AgentClient, progress: Bool) -> CallbackOutcome? {
        defer { fd.close() }
        guard let target = readRequestTarget(fd) else { return nil }
        let (path, query) = splitTarget(target)
        guard path == (start.listenPath ?? "/oauth/callback") else {
            respond(fd, status: "404 Not Found", body: "Not found.")
            return nil
        }
        let parameters = Dictionary(PercentEncoding.parseQuery(query) ?? []) { first, _ in first }
        guard parameters["state"] == start.state else {
            respond(fd, status: "400 Bad Request", body: "This callback does not belong to the login in progress.")
            return nil
        }
        do throws(AgentClientError) {
            let outcome = try client.completeLogin(state: start.state, code: parameters["code"], error: parameters["error"],
                                                   errorDescription: parameters["error_description"])
            let done = if case .approved = outcome { "Approved with account" } else { "Logged in account" }
            respond(fd, status: "200 OK", body: "\(done) \(outcome.accountName). You may close this window.")
            if progress { Output.err("\n") }
            return outcome
        } catch {
            respond(fd, status: "400 Bad Request", body: "Login failed: \(error.message)")
            if progress { Output.err("\n") }
            Output.fail(error)
        }
    }

    /// The request target of a `GET` request line, reading at most 8 KiB for 5 seconds.
    static func readRequestTarget(_ fd: FileDescriptor) -> String? {
        try? fd.setNonBlocking(false)
        try? fd.setTimeouts(milliseconds: 5000)
        var head: [UInt8] = []
        while head.count < 8192 {
            guard let chunk = try? fd.read(upTo: 8192 - head.count), !chunk.isEmpty else { break }
            head += chunk
            if head.contains(UInt8(ascii: "\n")) { break }  // the request line is all we need
        }
        guard let lineEnd = head.firstIndex(of: UInt8(ascii: "\r")) ?? head.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let parts = String(decoding: head[..<lineEnd], as: UTF8.self).split(separator: " ")
        guard parts.count == 3, parts[0] == "GET" else { return nil }
        return String(parts[1])
    }

    /// The path of an `http://host:port/path` URI (`/` when it has none).
    static func path(of uri: String) -> String {
        let schemeEnd = uri.hasPrefix("https://") ? 8 : 7
        let rest = uri.dropFirst(schemeEnd)
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        return String(splitTarget(String(rest[slash...])).0)
    }

    static func splitTarget(_ target: String) -> (String, String) {
        guard let mark = target.firstIndex(of: "?") else { return (target, "") }
        return (String(target[..<mark]), String(target[target.index(after: mark)...]))
    }

    static func respond(_ fd: FileDescriptor, status: String, body: String) {
        let html = "<!doctype html><meta charset=utf-8><title>claude-agent</title><p>\(HTML.escape(body))</p>\n"
        let response = "HTTP/1.1 \(status)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(html.utf8.count)\r\n"
            + "Cache-Control: no-store\r\nConnection: close\r\n\r\n" + html
        try? fd.sendAll(Array(response.utf8))
    }

    /// Opens `url` with xdg-open when there is a display; otherwise the printed URL is enough.
    static func openBrowser(_ url: String) {
        guard hasDisplay else { return }
        for directory in (ProcessControl.environment("PATH") ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(directory)/xdg-open"
            if access(candidate, X_OK) == 0 {
                _ = try? ProcessControl.spawnDetached(candidate, arguments: [url])
                return
            }
        }
    }

    static func logout(_ arguments: [String]) {
        let parsed = Lifecycle.parse(arguments, command: "logout", flags: ["--no-revoke": []],
                                     options: Commands.socketOption.merging(["--account": []]) { a, _ in a })
        let account = AccountReference(text: parsed.value("--account") ?? "default")
        let client = Commands.client(parsed)
        client.timeoutMilliseconds = 60_000
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
