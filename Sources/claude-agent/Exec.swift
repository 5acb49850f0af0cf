import AgentArguments
import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient

/// `claude-agent exec`: runs a command with a fresh token in the environment Claude Code
/// reads, replacing this process (exec(2)) so the command's exit status is ours.
///
/// Claude Code picks one credential per session, in this documented order: a cloud
/// provider (`CLAUDE_CODE_USE_BEDROCK`, `_VERTEX`, `_FOUNDRY`), `ANTHROPIC_AUTH_TOKEN`,
/// `ANTHROPIC_API_KEY`, `apiKeyHelper`, `CLAUDE_CODE_OAUTH_TOKEN`, then its own login
/// (Claude Code's authentication docs; anthropics/claude-code's `.env.example` describes
/// the same chain). Only `CLAUDE_CODE_OAUTH_TOKEN` makes it treat the token as an OAuth
/// token, which it sends with `anthropic-beta: oauth-2025-04-20` and its subscription
/// features; `ANTHROPIC_AUTH_TOKEN` is sent as a plain gateway Bearer token without the
/// beta header, which the API refuses for OAuth tokens ("OAuth authentication is
/// currently not supported."). So the child gets `CLAUDE_CODE_OAUTH_TOKEN`, and the two
/// variables that would win over it are removed from its environment.
enum Exec {
    /// The variable Claude Code (and the Claude Agent SDK, which runs it) reads an OAuth
    /// access token from.
    static let oauthTokenVariable = "CLAUDE_CODE_OAUTH_TOKEN"
    /// Variables that come before it in Claude Code's order and would shadow the token.
    static let shadowingVariables = [AuthCredentials.Source.authToken.rawValue, AuthCredentials.Source.apiKey.rawValue]
    /// Cloud routing that makes Claude Code ignore every Anthropic credential: left alone
    /// (it is the user's choice), but named in a warning.
    static let cloudVariables = ["CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY"]

    /// Options that take a value, so the command's start can be told from their values.
    static var options: [String: [String]] { CommandTable.specs["exec"]?.options ?? [:] }

    static func run(_ arguments: [String]) {
        let (own, command) = split(arguments)
        let parsed = CommandTable.parse("exec", own)
        guard let program = command.first else { Output.usage("exec needs a command to run, after --", command: "exec") }
        let token = Commands.obtainToken(parsed, command: "exec")
        var environment = ProcessControl.environmentDictionary()
        let current = environment
        for name in cloudVariables where current[name].map({ !$0.isEmpty && $0 != "0" }) ?? false {
            Output.err("claude-agent: warning: \(name) is set, so Claude Code uses that cloud provider, not this token\n")
        }
        for name in shadowingVariables { environment[name] = nil }
        environment[oauthTokenVariable] = token.accessToken
        do throws(Errno) {
            try ProcessControl.exec(searching: program, arguments: Array(command.dropFirst()), environment: environment)
        } catch {
            // As env(1) and the shells: 127 when the command is not found, 126 otherwise.
            Output.fail(error == .noSuchFile ? .commandNotFound : .commandNotExecutable, "cannot run \(program): \(error)")
        }
    }

    /// Splits at `--`, or else at the first argument that is neither an option nor an
    /// option's value: `exec --account work claude -p hi` runs `claude -p hi`.
    static func split(_ arguments: [String]) -> (own: [String], command: [String]) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { return (Array(arguments[..<index]), Array(arguments[(index + 1)...])) }
            guard argument.hasPrefix("-"), argument != "-" else { break }
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            let takesValue = options.contains { $0.key == name || $0.value.contains(name) }
            index += takesValue && !argument.contains("=") ? 2 : 1
        }
        return (Array(arguments[..<min(index, arguments.count)]), Array(arguments[min(index, arguments.count)...]))
    }
}
