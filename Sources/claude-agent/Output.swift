import AgentPOSIX
import ClaudeAgentClient

/// Exit codes, documented in `--help` and README.
enum ExitCode: Int32 {
    case ok = 0
    /// No agent answers at the socket.
    case noAgent = 1
    case usage = 2
    /// No token covers the request (`no_token`, `not_found`).
    case noToken = 3
    /// The token is expired and could not be refreshed (`expired`, `login_required`,
    /// `rotation_lost`, `refresh_failed`).
    case expired = 4
    case locked = 5
    /// A person or the clock said no (`denied`, `cancelled`, `timeout`).
    case denied = 6
    /// Any other failure.
    case failure = 7

    init(_ code: AgentClientError.Code) {
        switch code {
        case .agentNotRunning, .io: self = .noAgent
        case .noToken, .notFound: self = .noToken
        case .expired, .loginRequired, .rotationLost, .refreshFailed: self = .expired
        case .locked: self = .locked
        case .denied, .cancelled, .timeout, .requestFailed: self = .denied
        default: self = .failure
        }
    }
}

enum Output {
    static func out(_ text: String) {
        try? FileDescriptor.standardOutput.writeAll(Array(text.utf8))
    }

    static func err(_ text: String) {
        try? FileDescriptor.standardError.writeAll(Array(text.utf8))
    }

    /// One line on stderr with the program name, then exit.
    static func fail(_ message: String, _ code: ExitCode) -> Never {
        err("claude-agent: \(message)\n")
        ProcessControl.exit(code.rawValue)
    }

    static func fail(_ error: AgentClientError) -> Never {
        fail("\(error.code.rawValue): \(error.message)", ExitCode(error.code))
    }

    static func usage(_ message: String, command: String?) -> Never {
        let hint = command.map { "claude-agent \($0) --help" } ?? "claude-agent --help"
        fail("\(message)\nTry '\(hint)'.", .usage)
    }
}

/// How `start` and `stop` write variables: for sh, csh or fish.
enum ShellSyntax {
    case bourne, csh, fish

    /// From `-s`/`-c`/`--fish`, else from `$SHELL` (as ssh-agent guesses).
    init(arguments: Arguments) {
        if arguments.has("-s") { self = .bourne }
        else if arguments.has("-c") { self = .csh }
        else if arguments.has("--fish") { self = .fish }
        else {
            let shell = ProcessControl.environment("SHELL") ?? ""
            if shell.hasSuffix("csh") { self = .csh }
            else if shell.hasSuffix("fish") { self = .fish }
            else { self = .bourne }
        }
    }

    /// A line that sets and exports `name`; `value` is single-quoted unless it is a number.
    func set(_ name: String, _ value: String) -> String {
        let text = value.allSatisfy(\.isNumber) && !value.isEmpty ? value : quoted(value)
        switch self {
        case .bourne: return "\(name)=\(text); export \(name);\n"
        case .csh: return "setenv \(name) \(text);\n"
        case .fish: return "set -gx \(name) \(text);\n"
        }
    }

    func unset(_ name: String) -> String {
        switch self {
        case .bourne: return "unset \(name);\n"
        case .csh: return "unsetenv \(name);\n"
        case .fish: return "set -e \(name);\n"
        }
    }

    /// Single-quoted, so any path survives `eval`.
    func quoted(_ value: String) -> String {
        switch self {
        case .bourne, .csh: return "'" + value.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        case .fish: return "'" + value.replacing("\\", with: "\\\\").replacing("'", with: "\\'") + "'"
        }
    }
}
