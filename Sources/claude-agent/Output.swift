import AgentArguments
import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient

enum Output {
    static func out(_ text: String) {
        try? FileDescriptor.standardOutput.writeAll(Array(text.utf8))
    }

    static func err(_ text: String) {
        try? FileDescriptor.standardError.writeAll(Array(text.utf8))
    }

    /// One line on stderr, `claude-agent: <code>: <message>`, then exit with the status
    /// `ExitCode` maps the code to: the only way this program fails, as every program of
    /// the package fails (`CommandLineProgram.fail`).
    static func fail(_ code: ErrorCode, _ message: String) -> Never {
        CommandLineProgram.fail("claude-agent", code, message)
    }

    static func fail(_ error: AgentClientError) -> Never {
        fail(error.code, error.message)
    }

    /// A usage error, pointing at the help of the command (or of the program).
    static func usage(_ message: String, command: String?) -> Never {
        let hint = command.map { "claude-agent \($0) --help" } ?? "claude-agent --help"
        fail(.usage, "\(message) (see '\(hint)')")
    }

    /// A note that does not stop the command: `claude-agent: warning: <message>`.
    static func warn(_ message: String) {
        err("claude-agent: warning: \(FreeText.escaped(message))\n")
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
