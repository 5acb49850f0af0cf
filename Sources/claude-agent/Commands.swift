import AgentArguments
import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient

/// The client commands: each asks the agent one thing and prints the answer.
enum Commands {
    /// The agent at `-a`, else CLAUDE_AGENT_SOCK, else the default socket.
    static func client(_ parsed: Arguments) -> AgentClient {
        AgentClient(socketPath: SocketPath.resolve(explicit: parsed.value("-a")))
    }

    static func run<T>(_ body: () throws(AgentClientError) -> T) -> T {
        do throws(AgentClientError) {
            return try body()
        } catch {
            Output.fail(error)
        }
    }

    static func status(_ arguments: [String]) {
        let parsed = CommandTable.parse("status", arguments)
        let client = client(parsed)
        let status = run { () throws(AgentClientError) in try client.status() }
        if parsed.has("--json") {
            Output.out(String(decoding: JSONValue.object(status.json).serialized(pretty: true), as: UTF8.self) + "\n")
            return
        }
        Output.out("""
            pid       \(status.pid)
            version   \(status.version)
            uptime    \(duration(status.uptimeSeconds))
            socket    \(status.socket)
            locked    \(status.locked ? "yes" : "no")
            accounts  \(status.accounts)

            """)
        // Past a few dozen accounts `status` lists only the first; the pages of
        // `account.list` hold every state (unless the agent is locked).
        if status.json["account_states_truncated"]?.boolValue == true,
           let accounts = try? client.listAccounts() {
            for account in accounts { Output.out("  #\(account.id) \(account.name): \(account.state)\n") }
            return
        }
        for entry in status.json["account_states"]?.arrayValue ?? [] {
            guard let name = entry["account"]?.stringValue, let state = entry["state"]?.stringValue else { continue }
            Output.out("  #\(entry["id"]?.intValue ?? 0) \(name): \(state)\n")
        }
        for warning in status.json["warnings"]?.arrayValue ?? [] {
            if let text = warning.stringValue { Output.out("warning: \(text)\n") }
        }
    }

    static func list(_ arguments: [String]) {
        let parsed = CommandTable.parse("list", arguments)
        let client = client(parsed)
        let accounts = run { () throws(AgentClientError) in try client.listAccounts() }
        if parsed.has("--json") {
            let array = JSONValue.array(accounts.map { .object($0.json) })
            Output.out(String(decoding: array.serialized(pretty: true), as: UTF8.self) + "\n")
            return
        }
        guard !accounts.isEmpty else {
            Output.out("The agent has no accounts.\n")
            return
        }
        // Who and the refresh token's end only when some account has them (Claude's
        // service says; others mostly do not).
        let who = accounts.contains { $0.profile?.displayText != nil }
        let lapses = accounts.contains { $0.refreshTokenExpiresAt != nil }
        let header = ["ID", "ACCOUNT", "EXPIRES", "STATE", "FINGERPRINT"] + (who ? ["WHO"] : []) + (lapses ? ["REFRESH EXPIRES"] : [])
        let rows = [header + ["SCOPES"]] + accounts.map { account -> [String] in
            [String(account.id), account.name, account.expiresAt.map(RFC3339.format) ?? "never", account.state.rawValue, account.fingerprint]
                + (who ? [account.profile?.displayText ?? "-"] : [])
                + (lapses ? [account.refreshTokenExpiresAt.map(RFC3339.format) ?? "-"] : [])
                + [Scopes.joined(account.scopes)]
        }
        Output.out(table(rows))
    }

    static func add(_ arguments: [String]) {
        let parsed = CommandTable.parse("add", arguments)
        if let path = parsed.value("--from-file") {
            return addFromFile(path, parsed)
        }
        let lifetimeSeconds = CommandTable.seconds(parsed, "-t", command: "add")
        var accountID: UInt32?
        if let text = parsed.value("--account-id") {
            guard let id = UInt32(text) else { Output.usage("--account-id needs a number from 0 to 4294967295", command: "add") }
            accountID = id
        }
        guard let input = Terminal.readAll(from: .standardInput, limit: Frame.maxPayloadBytes) else {
            Output.fail(.badRequest, "the token bundle on stdin is unreadable or larger than 256 KiB")
        }
        let object: JSONObject
        do throws(JSONError) {
            guard case .object(let parsedObject) = try JSONValue.parse(input) else {
                Output.fail(.badRequest, "the token bundle on stdin must be a JSON object")
            }
            object = parsedObject
        } catch {
            Output.fail(.badRequest, "the token bundle on stdin is not valid JSON: \(error)")
        }
        let bundle: TokenBundle
        let name: String
        do throws(AgentError) {
            bundle = try TokenBundle(json: object, now: Clock.unixSeconds())
            let fromBundle = try object.optionalString("account")
            guard let given = parsed.value("--account") ?? fromBundle else {
                Output.usage("--account NAME is required", command: "add")
            }
            name = given
        } catch {
            Output.fail(error.code, error.message)
        }
        // The agent ignores fields it does not know (by design of the protocol); a person
        // who typed "expires" for "expires_at" should hear that it was ignored.
        let ignored = object.keys.filter { !TokenBundle.fieldNames.contains($0) && $0 != "account" }
        if !ignored.isEmpty {
            Output.warn("ignored unknown key\(ignored.count == 1 ? "" : "s") of the token bundle: \(ignored.joined(separator: ", "))")
        }
        let client = client(parsed)
        let summary = run { () throws(AgentClientError) in
            try client.addAccount(name, token: bundle, accountID: accountID, lifetimeSeconds: lifetimeSeconds)
        }
        let expiry = summary.expiresAt.map { ", expires \(RFC3339.format($0))" } ?? ""
        Output.err("Added account \(summary.name) (#\(summary.id)), token \(summary.fingerprint)\(expiry)\n")
    }

    /// The agent reads the file itself (it runs as the same user), so this binary needs no
    /// knowledge of the file dialects.
    static func addFromFile(_ path: String, _ parsed: Arguments) {
        let absolute = path.hasPrefix("/") ? path : ProcessControl.currentDirectory() + "/" + path
        let client = client(parsed)
        let summary = run { () throws(AgentClientError) in
            try client.importCredentials(path: absolute, account: parsed.value("--account"), persist: parsed.has("--persist"))
        }
        Output.err("Imported account \(summary.name) (#\(summary.id)) from \(path), token \(summary.fingerprint)\n")
        // As ssh refuses a private key others can read: the file holds a refresh token.
        if let status = try? FileSystem.status(absolute), status.permissions & 0o077 != 0 {
            Output.warn("\(path) is open to other users (mode \(String(status.permissions, radix: 8))) and holds a "
                        + "refresh token: chmod 600 \(path)")
        }
        if !parsed.has("--persist") && summary.hasRefreshToken {
            // The first refresh rotates the refresh token; the copy in the file then dies,
            // and the tool that owns the file is logged out.
            Output.err("claude-agent: warning: without --persist the agent will not write rotated tokens back to \(path): "
                       + "after its first refresh the refresh token in that file no longer works and the tool using it "
                       + "must log in again. Import with --persist to keep the file current.\n")
        }
    }

    static func remove(_ arguments: [String]) {
        let parsed = CommandTable.parse("remove", arguments)
        let name = parsed.positionals[0]
        let client = client(parsed)
        run { () throws(AgentClientError) in try client.removeAccount(AccountReference(text: name)) }
        Output.err("Removed account \(name)\n")
    }

    static func lock(_ arguments: [String]) {
        let parsed = CommandTable.parse("lock", arguments)
        let passphrase = readPassphrase(prompt: "Enter lock passphrase: ", confirm: true)
        // An empty passphrase locks nothing worth locking, and `unlock </dev/null` (no line
        // at all) could not give it back: refused, as ssh-add -x refuses one.
        guard !passphrase.isEmpty else { Output.fail(.usage, "the passphrase must not be empty") }
        let client = client(parsed)
        run { () throws(AgentClientError) in try client.lock(passphrase: passphrase) }
        Output.err("Agent locked.\n")
    }

    static func unlock(_ arguments: [String]) {
        let parsed = CommandTable.parse("unlock", arguments)
        let passphrase = readPassphrase(prompt: "Enter lock passphrase: ", confirm: false)
        let client = client(parsed)
        run { () throws(AgentClientError) in try client.unlock(passphrase: passphrase) }
        Output.err("Agent unlocked.\n")
    }

    /// From the terminal without echo when stdin is one, else the first line of stdin.
    static func readPassphrase(prompt: String, confirm: Bool) -> String {
        if FileDescriptor.standardInput.isTerminal {
            guard let first = Terminal.readSecret(prompt: prompt) else { Output.fail(.usage, "no passphrase read") }
            if confirm {
                guard Terminal.readSecret(prompt: "Again: ") == first else { Output.fail(.usage, "passphrases do not match") }
            }
            return first
        }
        guard let line = Terminal.readLine(from: .standardInput) else { Output.fail(.usage, "no passphrase on stdin") }
        return line
    }

    /// The errors after which `--wait` asks for an approval instead of failing: the agent
    /// has no token to give (none held, no such account, expired, or a login is due).
    static let waitableCodes: Set<ErrorCode> = [.noToken, .notFound, .expired, .loginRequired, .rotationLost]

    /// The token `token` and `exec` hand on: for the command's `--scope`s and `--account`,
    /// refreshed first with `--refresh`, and with `--wait` through an approval when the
    /// error is one of `waitableCodes`. Any other error fails the command.
    static func obtainToken(_ parsed: Arguments, command: String) -> AccessToken {
        let timeoutSeconds = CommandTable.seconds(parsed, "--timeout", command: command) ?? NumberRange.defaultWaitSeconds
        let scopes = Scopes.normalize(parsed.all("--scope").flatMap(Scopes.parse))
        let account = parsed.value("--account").map(AccountReference.init(text:))
        let client = client(parsed)
        // The deadline sent with the request: the agent answers before it (a slow refresh
        // as `timeout`, with its reason), and the client waits a little longer.
        client.timeoutMilliseconds = AgentClient.providerCallWaitMilliseconds
        do throws(AgentClientError) {
            return try client.token(scopes: scopes, account: account, refresh: parsed.has("--refresh"))
        } catch where parsed.has("--wait") && waitableCodes.contains(error.code) {
            return Requests.waitForToken(client: client, scopes: scopes, account: account, timeoutSeconds: timeoutSeconds)
        } catch {
            Output.fail(error)
        }
    }

    static func token(_ arguments: [String]) {
        let parsed = CommandTable.parse("token", arguments)
        let token = obtainToken(parsed, command: "token")
        if parsed.has("--json") {
            var bundle = token.json
            bundle["scope"] = .string(Scopes.joined(token.scopes))
            Output.out(String(decoding: JSONValue.object(bundle).serialized(), as: UTF8.self) + "\n")
        } else if parsed.has("--header") {
            // Every header line, Authorization first, so curl -H @<(claude-agent token
            // --header) sends the provider's headers too (Claude's anthropic-beta).
            Output.out(token.headerLines.map { "\($0.0): \($0.1)\n" }.joined())
        } else {
            Output.out(token.accessToken + "\n")
        }
    }

    static func duration(_ seconds: Int64) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(seconds % 60)s" }
        if seconds < 86400 { return "\(seconds / 3600)h\(seconds % 3600 / 60)m" }
        return "\(seconds / 86400)d\(seconds % 86400 / 3600)h"
    }

    /// Left-aligned columns separated by two spaces.
    /// Cells come from the agent or a peer (names, hosts): escaped (`FreeText.escaped`).
    static func table(_ rows: [[String]]) -> String {
        let rows = rows.map { $0.map(FreeText.escaped) }
        var widths = [Int](repeating: 0, count: rows.first?.count ?? 0)
        for row in rows { for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) } }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
