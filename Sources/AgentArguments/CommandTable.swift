import AgentProtocol

/// claude-agent's commands and what each accepts, in one table: the options with their
/// help, which contradict each other and which do nothing alone. The CLI parses each
/// command against its spec and prints `described` as the options of its `--help`; the
/// man page and the shell completions are tested against this table. A new option is one
/// entry here, and its rules are enforced and described like every other's.
public enum CommandTable {
    /// `-a SOCKET`: every client command takes it, before the command or after; the main
    /// help describes it.
    public static let socket = Option.agentSocket
    /// What every command takes before the command too: `-a SOCKET`, `--help`, `--version`.
    public static let globalOptions = [socket, CommandLineProgram.helpOption, CommandLineProgram.versionOption]
    /// `start`'s and `stop`'s shell syntax; at most one.
    public static let shellOptions = [
        Option("-s", help: ["print sh commands (the default unless $SHELL is csh or fish)"]),
        Option("-c", help: ["print csh commands"]),
        Option("--fish", help: ["print fish commands"]),
    ]
    static let shellExclusive = shellOptions.map(\.name)
    /// `stop`'s other spelling (`claude-agent -k`, as `ssh-agent -k`).
    public static let kill = Option("-k", help: ["stop the agent, as stop"])
    /// `start`'s and `serve`'s socket: the agent listens there.
    public static let agentSocket = DaemonOptions.socket.describing([
        "the socket path (default $XDG_RUNTIME_DIR/claude-agent/agent.sock,",
        "or /tmp/claude-agent-<uid>/agent.sock without XDG_RUNTIME_DIR)",
    ])

    /// `--timeout`, `token`'s and `exec`'s: only with `--wait`.
    static func waitTimeoutSeconds(_ help: [String]) -> Option { Option("--timeout", value: "S", help: help) }
    static func json(_ help: String) -> Option { Option("--json", help: [help]) }
    static let accountToken = Option("--account", value: "A", help: ["take the token of account A (a name or numeric id)"])

    public static let specs: [String: CommandSpec] = [
        "start": CommandSpec(shellOptions + [agentSocket, DaemonOptions.lifetime.describing([
                                 "default lifetime of added tokens (as ssh-agent -t; \(NumberRange.durationSeconds.lowerBound)"
                                     + " to \(NumberRange.maxDurationSeconds))",
                             ])],
                             alsoAccepting: DaemonOptions.passedThrough, exclusive: [shellExclusive]),
        "stop": CommandSpec(shellOptions, alsoAccepting: [socket, kill], exclusive: [shellExclusive]),
        "serve": CommandSpec([agentSocket.describing(["the socket path (default as for start)"]), DaemonOptions.lifetime]
                             + DaemonOptions.passedThrough),
        "status": CommandSpec([json("print the status as JSON, every field the agent answers")], alsoAccepting: [socket]),
        "list": CommandSpec([json("print the accounts as JSON (with the fields the table leaves out)")], alsoAccepting: [socket]),
        "add": CommandSpec([
            Option("--account", value: "NAME", help: ["the account name (letters, digits, . _ - @ +; not all digits)"]),
            Option("--account-id", value: "N", help: ["a stable numeric id (the control browser's account number)"]),
            DaemonOptions.lifetime.describing([
                "forget this token after SECONDS (\(NumberRange.durationSeconds.lowerBound) to \(NumberRange.maxDurationSeconds))",
            ]),
            Option("--from-file", value: "FILE", help: [
                "let the agent import a credentials file instead: Claude Code's",
                "~/.claude/.credentials.json (\"claudeAiOauth\", expiresAt in ms) or",
                "the seed CLI's credentials.json (\"oauth\", expiresAt in s); the",
                "account is \"default\" unless --account is given",
            ]),
            Option("--persist", help: [
                "with --from-file: write rotated tokens back to FILE (atomically,",
                "keeping every other field); without it the agent warns that",
                "the file's refresh token dies at the agent's first refresh",
            ]),
        ], alsoAccepting: [socket], exclusive: [["--from-file", "--account-id"], ["--from-file", "-t"]],
           requires: [("--persist", "--from-file")]),
        "remove": CommandSpec([], alsoAccepting: [socket], positionals: (1, "ACCOUNT")),
        "lock": CommandSpec([], alsoAccepting: [socket]),
        "unlock": CommandSpec([], alsoAccepting: [socket]),
        "token": CommandSpec([
            Option("--scope", value: "S", repeats: true, help: ["a scope the token must cover; repeat for several (default: any)"]),
            accountToken,
            Option("--json", help: [
                "print the bundle as JSON (access_token, token_type, expires_at,",
                "scope, scopes, account, account_id, headers; never the",
                "refresh token)",
            ]),
            Option("--header", help: [
                "print every header line a request needs, one per line:",
                "\"Authorization: Bearer <token>\" first, then the provider's",
                "(Claude's \"anthropic-beta: oauth-2025-04-20\"), for",
                "curl --header @<(claude-agent token --header) ...",
            ]),
            Option("--refresh", help: ["refresh the token now: the one held was refused"]),
            Option("--wait", help: ["ask for approval instead of failing when no token is held"]),
            waitTimeoutSeconds([
                "with --wait: give up after S seconds (\(NumberRange.waitSeconds.lowerBound) to \(NumberRange.waitSeconds.upperBound);"
                    + " exit 6);",
                "without --wait it would do nothing, so it is refused",
            ]),
        ], alsoAccepting: [socket], exclusive: [["--json", "--header"]], requires: [("--timeout", "--wait")]),
        // exec's own options; its COMMAND and ARGS are split off first (Exec.split).
        "exec": CommandSpec([
            accountToken,
            Option("--scope", value: "S", repeats: true, help: ["a scope the token must cover; repeat for several"]),
            Option("--wait", help: ["ask for approval when no token is held (see token --help)"]),
            waitTimeoutSeconds(["with --wait: give up after S seconds"]),
        ], alsoAccepting: [socket], requires: [("--timeout", "--wait")]),
        "login": CommandSpec([
            Option("--account", value: "NAME", help: ["the account to log in (default \"default\")"]),
            Option("--account-id", value: "N", help: ["its numeric id, for a new account"]),
            Option("--provider", value: "P", help: ["a provider from the configuration (default: the default one)"]),
            Option("--scope", value: "S", repeats: true, help: ["scopes to ask for (default: the provider's)"]),
            Option("--no-browser", help: ["only print the URL; the browser is elsewhere (paste the code)"]),
            Option("--port", value: "N", help: [
                "the callback listener's port (default: the provider's",
                "redirect_uri port, else any free one; contradicting a",
                "configured port is a usage error)",
            ]),
            Option("--timeout", value: "SECONDS", help: [
                "give up after SECONDS (default \(NumberRange.defaultWaitSeconds); \(NumberRange.waitSeconds.lowerBound)"
                    + " to \(NumberRange.waitSeconds.upperBound))",
            ]),
        ], alsoAccepting: [socket]),
        "logout": CommandSpec([
            Option("--account", value: "NAME", help: ["the account to forget (default \"default\")"]),
            Option("--no-revoke", help: ["forget it without revoking its refresh token at the provider"]),
        ], alsoAccepting: [socket]),
        "requests": CommandSpec([json("print the requests as JSON")], alsoAccepting: [socket]),
        "approve": CommandSpec([
            Option("--account", value: "A", help: ["the account to approve with (required)"]),
            Option("--print-url", help: ["print the authorize URL instead of asking the control browser"]),
            Option("--timeout", value: "SECONDS", help: [
                "give up waiting after SECONDS (default \(NumberRange.defaultWaitSeconds),"
                    + " \(NumberRange.waitSeconds.lowerBound) to \(NumberRange.waitSeconds.upperBound); exit 6)",
            ]),
        ], alsoAccepting: [socket], positionals: (1, "request ID")),
        "deny": CommandSpec([Option("--reason", value: "TEXT", help: ["why, for whoever waits for the request"])],
                            alsoAccepting: [socket], positionals: (1, "request ID")),
    ]
}
