import AgentProtocol
import ClaudeAgentClient
import Foundation
import Testing

/// The command line as the README promises it: one exit status per row of its table,
/// `claude-agent: <code>: <message>` for every error, usage errors for every command,
/// global options before the command, and no option accepted that does nothing.
@Suite("the command line's contract: exit codes, messages, options")
struct CommandLineContractTests {
    // MARK: One test per row of the README's exit-code table

    @Test("exit 0: success")
    func exitSuccess() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        let status = try sandbox.cli("status", "-a", socket)
        #expect(status.status == 0 && status.stderr.isEmpty)
    }

    @Test("exit 1: no agent answers at the socket (agent_not_running)")
    func exitNoAgent() throws {
        let sandbox = try Sandbox()
        let path = sandbox.root + "/none.sock"
        let result = try sandbox.cli("status", "-a", path)
        #expect(result.status == 1)
        #expect(result.stderr == "claude-agent: agent_not_running: no agent at \(path) (connect \(path): No such file or directory); start one with: eval \"$(claude-agent start)\"\n")
    }

    @Test("exit 2: usage errors, bad input on stdin, a bad configuration from serve and start")
    func exitUsage() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        let usage = try sandbox.cli("token", "--bogus", "-a", socket)
        #expect(usage.status == 2)
        #expect(usage.stderr == "claude-agent: usage: unknown option --bogus (see 'claude-agent token --help')\n")
        let notJSON = try sandbox.cli("add", "--account", "x", "-a", socket, stdin: "nope")
        #expect(notJSON.status == 2)
        #expect(notJSON.stderr == "claude-agent: bad_request: the token bundle on stdin is not valid JSON: unexpected character 'o' at byte 1\n")
        let config = sandbox.root + "/bad-config.json"
        try #"{"providers": {"x": {"client_id": "c"}}, "colour": 1}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try sandbox.cli("serve", "-a", sandbox.root + "/serve.sock", "--config", config)
        #expect(serve.status == 2)
        #expect(serve.stderr.hasPrefix("claude-agentd: bad_configuration: \(config): "), "\(serve.stderr)")
        #expect(serve.stderr.split(separator: "\n").count == 1)
        let start = try sandbox.cli("start", "-a", sandbox.root + "/start.sock", "--config", config)
        #expect(start.status == 2)
        #expect(start.stderr.hasPrefix("claude-agent: bad_configuration: the agent did not start: \(config): "), "\(start.stderr)")
        #expect(start.stdout.isEmpty)
    }

    @Test("exit 3: no token covers the request (no_token)")
    func exitNoToken() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        let result = try sandbox.cli("token", "--scope", "org:admin", "-a", socket)
        #expect(result.status == 3 && result.stderr == "claude-agent: no_token: no token held covering [org:admin]\n")
    }

    @Test("exit 4: the token expired and cannot be refreshed (expired)")
    func exitExpired() throws {
        let sandbox = try Sandbox()
        // The agent answers expired for a token that lapsed while held: that it does, and
        // with which message, is tested in process under a fake clock (ExpiredTokenTests).
        // Here a stand-in gives that answer at once, so nothing waits for a token to lapse.
        let message = "the token of account old expired at 2030-01-01T00:00:00Z and cannot be refreshed: "
            + "it came without a refresh token"
        let agent = try CannedAgent(socket: sandbox.root + "/canned.sock", tokenError: AgentError(.expired, message))
        defer { agent.stop() }
        let result = try sandbox.cli("token", "-a", agent.socket)
        #expect(result.status == 4)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "claude-agent: expired: \(message)\n")
        #expect(agent.received == ["token.get"])
        // The same row from the real agent, which says expired at once for a bundle that
        // could never be used (DeadOnArrivalTests has the message).
        let socket = try sandbox.startDaemon().socket
        let add = try sandbox.cli("add", "--account", "old", "-a", socket, stdin: bundle("tok-old", expiresIn: 30))
        #expect(add.status == 4 && add.stderr.hasPrefix("claude-agent: expired: "), "\(add.stderr)")
    }

    @Test("exit 5: the agent is locked")
    func exitLocked() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        #expect(try sandbox.cli("lock", "-a", socket, stdin: "hunter2\n").status == 0)
        let result = try sandbox.cli("token", "-a", socket)
        #expect(result.status == 5 && result.stderr.hasPrefix("claude-agent: locked: "))
    }

    @Test("exit 6: denied, cancelled or timed out")
    func exitDenied() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        #expect(try sandbox.cli("lock", "-a", socket, stdin: "hunter2\n").status == 0)
        let wrong = try sandbox.cli("unlock", "-a", socket, stdin: "wrong\n")
        #expect(wrong.status == 6 && wrong.stderr == "claude-agent: denied: wrong passphrase\n")
    }

    @Test("exit 7: any other error (not_locked, an agent already at the socket)")
    func exitOther() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        let notLocked = try sandbox.cli("unlock", "-a", socket, stdin: "x\n")
        #expect(notLocked.status == 7 && notLocked.stderr == "claude-agent: not_locked: the agent is not locked\n")
        let second = try sandbox.run(Binaries.daemon, ["-a", socket])
        #expect(second.status == 7 && second.stderr.hasSuffix("claude-agentd: start_failed: an agent is already listening on \(socket)\n"))
    }

    @Test("exit 126 and 127: exec's COMMAND cannot be run or is not found, in the one-line form")
    func exitCommand() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        try sandbox.cli("add", "--account", "w", "-a", socket, stdin: bundle("tok-w"))
        let missing = try sandbox.cli("exec", "-a", socket, "--", "/nonexistent")
        #expect(missing.status == 127)
        #expect(missing.stderr.hasPrefix("claude-agent: command_not_found: cannot run /nonexistent: "), "\(missing.stderr)")
        let notExecutable = sandbox.root + "/plain"
        #expect(FileManager.default.createFile(atPath: notExecutable, contents: Data("x".utf8), attributes: [.posixPermissions: 0o644]))
        let denied = try sandbox.cli("exec", "-a", socket, "--", notExecutable)
        #expect(denied.status == 126)
        #expect(denied.stderr.hasPrefix("claude-agent: command_not_executable: cannot run \(notExecutable): "), "\(denied.stderr)")
    }

    @Test("the exit-code table in --help is the README's, row for row")
    func helpTableIsTheReadme() throws {
        let readme = try String(contentsOfFile: Repository.root + "/README.md", encoding: .utf8)
        let rows = readme.split(separator: "\n").filter { line in
            line.hasPrefix("| ") && line.dropFirst(2).first?.isNumber == true
                && line.dropFirst(2).drop(while: \.isNumber).hasPrefix(" | ")
        }
        let help = try Sandbox().cli("--help").stdout
        let helpRows = help.split(separator: "\n").filter { $0.hasPrefix("  ") && $0.dropFirst(2).first?.isNumber == true }
        #expect(rows.count == 10 && helpRows.count == 10)
        for (row, helpRow) in zip(rows, helpRows) {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let meaning = cells[1].replacing("`", with: "")
            #expect(helpRow == "  \(cells[0])  \(meaning)")
        }
    }

    // MARK: A usage error for every command

    static let commands = ["start", "stop", "serve", "status", "list", "add", "remove", "lock", "unlock", "token", "login",
                           "logout", "requests", "approve", "deny", "bridge", "endpoint"]

    @Test("every command refuses an unknown option: usage, exit 2, one line naming its help", arguments: commands)
    func unknownOption(command: String) throws {
        let sandbox = try Sandbox()
        let result = try sandbox.cli(command, "--bogus")
        #expect(result.status == 2)
        #expect(result.stderr == "claude-agent: usage: unknown option --bogus (see 'claude-agent \(command) --help')\n")
        #expect(result.stdout.isEmpty)
    }

    @Test("missing or extra arguments are usage errors", arguments: [
        (["remove"], "expected one ACCOUNT, got 0 arguments (see 'claude-agent remove --help')"),
        (["approve", "id"], "--account is required (see 'claude-agent approve --help')"),
        (["deny"], "expected one request ID, got 0 arguments (see 'claude-agent deny --help')"),
        (["status", "extra"], "unexpected argument \"extra\" (see 'claude-agent status --help')"),
        (["token", "--scope"], "--scope needs a value (see 'claude-agent token --help')"),
        ([], "a command is needed (see 'claude-agent --help')"),
        (["frobnicate"], "unknown command \"frobnicate\" (see 'claude-agent --help')"),
        (["-x", "status"], "unknown option -x (see 'claude-agent --help')"),
    ])
    func missingArguments(arguments: [String], message: String) throws {
        let result = try Sandbox().run(Binaries.cli, arguments)
        #expect(result.status == 2)
        #expect(result.stderr == "claude-agent: usage: \(message)\n")
    }

    // MARK: Global options before the command

    @Test("-a, --socket, --help, --version and -V work before the command as after it")
    func globalOptionsFirst() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon(socket: sandbox.root + "/g.sock").socket
        let status = try sandbox.cli("-a", socket, "status")
        #expect(status.status == 0 && status.stdout.contains("socket    \(socket)"), "\(status.stderr)")
        #expect(try sandbox.cli("--socket=\(socket)", "list").stdout == "The agent has no accounts.\n")
        #expect(try sandbox.cli("--socket", socket, "list", "--json").stdout == "[]\n")
        let help = try sandbox.cli("--help", "token")
        #expect(help.status == 0 && help.stdout.hasPrefix("usage: claude-agent token "))
        for arguments in [["--version"], ["-V"], ["-V", "status"], ["status", "-V"], ["status", "--version"]] {
            let version = try sandbox.run(Binaries.cli, arguments)
            #expect(version.status == 0 && version.stdout == "claude-agent 0.1.0\n" && version.stderr.isEmpty, "\(arguments)")
        }
        let stop = try sandbox.cli("-a", socket, "-k")
        #expect(stop.status == 0 && stop.stdout.hasSuffix("killed;\n"), "\(stop.stderr)")
    }

    // MARK: Options that contradict each other or do nothing

    @Test("contradictory or inert options are refused", arguments: [
        (["token", "--timeout", "5"], "token", "--timeout does nothing without --wait"),
        (["token", "--json", "--header"], "token", "--json and --header exclude each other"),
        (["start", "-s", "-c"], "start", "-s and -c exclude each other"),
        (["start", "-c", "--fish", "-s"], "start", "-s, -c and --fish exclude each other"),
        (["stop", "-s", "--fish"], "stop", "-s and --fish exclude each other"),
        (["add", "--persist"], "add", "--persist does nothing without --from-file"),
        (["add", "--from-file", "f.json", "--account-id", "3"], "add", "--from-file and --account-id exclude each other"),
        (["add", "--from-file", "f.json", "-t", "60"], "add", "--from-file and -t exclude each other"),
    ])
    func inertOptions(arguments: [String], command: String, message: String) throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run(Binaries.cli, arguments)
        #expect(result.status == 2)
        #expect(result.stderr == "claude-agent: usage: \(message) (see 'claude-agent \(command) --help')\n")
        #expect(!FileManager.default.fileExists(atPath: sandbox.defaultSocket))
    }

    @Test("start finding a running agent says which agent options it did not apply")
    func startWarnsOfUnappliedOptions() throws {
        let sandbox = try Sandbox()
        let first = try sandbox.cli("start", "-s")
        #expect(first.status == 0, "\(first.stderr)")
        let second = try sandbox.cli("start", "-s", "-t", "60", "--skew", "5", "--refresh-ahead")
        #expect(second.status == 0 && second.stdout == first.stdout)
        let pid = try #require(first.stdout.split(separator: "\n").last?.split(separator: " ").last?.dropLast())
        #expect(second.stderr == "claude-agent: warning: an agent is already running (pid \(pid)); -t, --skew, --refresh-ahead not applied\n")
    }

    // MARK: lock, add, help texts

    @Test("lock refuses an empty passphrase, from the CLI and over the socket; the agent stays unlocked")
    func emptyPassphrase() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        for input in ["\n", ""] {
            let result = try sandbox.cli("lock", "-a", socket, stdin: input)
            #expect(result.status == 2, "\(input.debugDescription)")
        }
        #expect(try sandbox.cli("lock", "-a", socket, stdin: "\n").stderr == "claude-agent: usage: the passphrase must not be empty\n")
        #expect(try sandbox.cli("lock", "-a", socket, stdin: "").stderr == "claude-agent: usage: no passphrase on stdin\n")
        do {
            try AgentClient(socketPath: socket).lock(passphrase: "")
            Issue.record("agent.lock with an empty passphrase must fail")
        } catch {
            #expect(error.code == .badRequest && error.message == "field \"passphrase\" must not be empty")
        }
        #expect(try sandbox.cli("status", "-a", socket).stdout.contains("locked    no"))
    }

    @Test("add names the keys of the bundle it ignores on stderr, and still adds")
    func ignoredBundleKeys() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        let result = try sandbox.cli("add", "--account", "w", "-a", socket,
                                     stdin: #"{"access_token": "t", "expires": 3600, "scope": "a", "id_token": "x"}"#)
        #expect(result.status == 0)
        #expect(result.stderr.hasPrefix("claude-agent: warning: ignored unknown keys of the token bundle: expires, id_token\nAdded account w (#1), token SHA256:"))
        let one = try sandbox.cli("add", "--account", "v", "-a", socket, stdin: #"{"access_token": "t", "acount": "v"}"#)
        #expect(one.stderr.hasPrefix("claude-agent: warning: ignored unknown key of the token bundle: acount\n"))
        let clean = try sandbox.cli("add", "--account", "u", "-a", socket, stdin: bundle("t"))
        #expect(clean.stderr.hasPrefix("Added account u"))
    }

    @Test("approve --help describes --timeout; start --help shows the csh form")
    func helpTexts() throws {
        let sandbox = try Sandbox()
        let approve = try sandbox.cli("approve", "--help").stdout
        #expect(approve.contains("  --timeout SECONDS  give up waiting after SECONDS (default 300, 1 to 3600; exit 6)"))
        let start = try sandbox.cli("start", "--help").stdout
        #expect(start.contains("eval `claude-agent start -c`"))
    }

    @Test("claude-agentd's options are start's and serve's: each agent option they name, the agent describes and accepts")
    func daemonOptionsAreOneTable() throws {
        let sandbox = try Sandbox()
        let daemonHelp = try sandbox.run(Binaries.daemon, ["--help"])
        #expect(daemonHelp.status == 0)
        let ownOptions: Set<String> = ["-a", "-t", "--socket", "--lifetime", "-s", "-c", "--fish"]
        let serve = HelpTable.options(of: "serve").subtracting(ownOptions)
        let start = HelpTable.options(of: "start").subtracting(ownOptions)
        #expect(!serve.isEmpty && serve == start, "start: \(start.sorted()), serve: \(serve.sorted())")
        for option in serve.sorted() {
            #expect(daemonHelp.stdout.contains("\n  \(option) ") || daemonHelp.stdout.contains("\n  \(option)\n"),
                    "claude-agentd --help does not describe \(option)")
            // Accepted: a value that is a usage error names the option, an unknown one would not.
            let result = try sandbox.run(Binaries.daemon, [option, "1", "--version"])
            #expect(!result.stderr.contains("unknown option"), "\(option): \(result.stderr)")
        }
        let unknown = try sandbox.run(Binaries.daemon, ["--bogus"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr == "claude-agentd: usage: unknown option --bogus (see 'claude-agentd --help')\n")
    }

    @Test("the README's example bundle adds a token that is handed out")
    func readmeBundleWorks() throws {
        let readme = try String(contentsOfFile: Repository.root + "/README.md", encoding: .utf8)
        let marker = "A token bundle for `add` is the original router's `TokenBundle`:\n\n```json\n"
        let start = try #require(readme.range(of: marker))
        let end = try #require(readme[start.upperBound...].range(of: "\n```"))
        let example = String(readme[start.upperBound..<end.lowerBound])
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        let add = try sandbox.cli("add", "--account", "work", "-a", socket, stdin: example)
        #expect(add.status == 0 && !add.stderr.contains("warning"), "\(add.stderr)")
        let token = try sandbox.cli("token", "--scope", "user:inference", "-a", socket)
        #expect(token.status == 0, "\(token.stderr)")
    }
}
