import AgentProtocol

/// claude-agentd's options, declared once: claude-agentd parses and describes them from
/// here, and `claude-agent start`/`serve` accept and hand on exactly `passedThrough`, in
/// the order given (`--import A --persist B` stays in that order).
public enum DaemonOptions {
    /// The socket and the default lifetime: `start` and `serve` take these themselves
    /// (`start` also uses the socket path) and hand them on.
    public static let socket = Option("-a", aliases: ["--socket"], value: "SOCKET", help: [
        "listen on SOCKET instead of $XDG_RUNTIME_DIR/claude-agent/agent.sock",
    ])
    public static let lifetime = Option("-t", aliases: ["--lifetime"], value: "SECONDS", help: [
        "forget added tokens after SECONDS (\(NumberRange.durationSeconds.lowerBound) to \(NumberRange.maxDurationSeconds), ten years)",
        "unless the add says otherwise",
    ])

    /// The options `start` and `serve` hand to claude-agentd unchanged.
    public static let passedThrough: [Option] = [
        Option("--skew", value: "SECONDS", help: [
            "treat tokens this close to expiry as expired (default \(NumberRange.defaultExpirySkewSeconds);",
            "\(NumberRange.offsetSeconds.lowerBound) to \(NumberRange.offsetSeconds.upperBound); never more than half the lifetime the",
            "provider granted)",
        ]),
        Option("--config", value: "FILE", help: [
            "provider configuration (default",
            "$XDG_CONFIG_HOME/claude-agent/config.json, or CLAUDE_AGENT_CONFIG)",
        ]),
        Option("--refresh-ahead", help: ["refresh tokens in the background at about 2/3 of their life"]),
        Option("--import", value: "FILE", repeats: true, help: [
            "import a credentials file at start (Claude Code's",
            "~/.claude/.credentials.json or the seed CLI's credentials.json)",
        ]),
        Option("--persist", value: "FILE", repeats: true, help: [
            "import FILE and write rotated tokens back to it; the file",
            "stays the shared truth: read again before each refresh",
            "(a newer pair another tool wrote there is adopted), and",
            "refreshed under the lock .FILE.lock beside it",
            "(and Claude Code's own locks for its file)",
        ]),
        Option("--import-account", value: "NAME", help: ["the account name for imported files (default \"default\")"]),
        Option("--callback-url", value: "URL", help: [
            "where providers redirect after an approval (default",
            "http://127.0.0.1:7777/oauth/callback, the bridge)",
        ]),
        Option("--idle-timeout", value: "SECONDS", help: [
            "close connections with nothing in flight after SECONDS",
            "without a byte (default \(NumberRange.defaultIdleTimeoutSeconds); \(NumberRange.durationSeconds.lowerBound) to \(NumberRange.durationSeconds.upperBound))",
        ]),
        Option("--fetch-helper", value: "PATH", help: [
            "the program that makes each HTTPS exchange (default",
            "claude-agent-fetch beside claude-agentd, else on PATH)",
        ]),
        Option("--no-forward", help: [
            "refuse connections forwarded through ssh (whose peer is",
            "an ssh or sshd process); see 'Forwarding' in the README",
        ]),
        Option("--refresh-timeout", value: "SECONDS", help: [
            "each attempt's time-out at the token endpoint, \(NumberRange.refreshTimeoutSeconds.lowerBound) to \(NumberRange.refreshTimeoutSeconds.upperBound)",
            "(default \(NumberRange.defaultRefreshTimeoutSeconds), or refresh_timeout_seconds in the config);",
            "a refresh token that may have reached the provider is",
            "never sent twice",
        ]),
    ]

    /// Only claude-agentd's own: tests shorten the check, users have no need to.
    public static let socketCheckInterval = Option("--socket-check-interval", value: "MILLISECONDS", help: [
        "how often to check that the socket is still ours (default",
        "\(NumberRange.defaultSocketCheckIntervalMilliseconds); a shorter one is for tests, which cannot wait a minute)",
    ])

    /// Everything claude-agentd accepts, in the order its help lists them.
    public static let all: [Option] = [socket, lifetime] + passedThrough
        + [socketCheckInterval, CommandLineProgram.versionOption, CommandLineProgram.helpOption]

    /// `passedThrough`'s options in `parsed`, in the order they were given, ready to hand on.
    public static func passedThroughArguments(_ parsed: Arguments) -> [String] {
        let names = Set(passedThrough.map(\.name))
        var arguments: [String] = []
        for (name, value) in parsed.ordered where names.contains(name) {
            arguments.append(name)
            if let value { arguments.append(value) }
        }
        return arguments
    }
}
