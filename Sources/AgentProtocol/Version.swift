/// The version of claude-agent, reported by `--version`, `hello` and `status`.
public let agentVersion = "0.1.0"
