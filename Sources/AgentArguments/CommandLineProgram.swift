import AgentPOSIX
import AgentProtocol

/// A program's command line as every claude-agent program treats it: parsed by the shared
/// parser against the program's option table, `--help` printing the help made from that
/// same table, and every failure one line, `<name>: <code>: <message>`, with the exit
/// status `ExitCode` gives the code (a usage error: 2, pointing at the help).
public struct CommandLineProgram: Sendable {
    /// The name failure lines start with ("claude-agent", "claude-agentd").
    public let name: String
    /// What a usage error tells the user to run for help ("claude-agent bridge --help").
    public let helpCommand: String
    /// Everything the program accepts, in the order its help lists them.
    public let options: [Option]
    /// The whole `--help` text.
    public let help: String

    /// `-h`, `--help`: every program's.
    public static let helpOption = Option("-h", aliases: ["--help"], showsAliases: true, help: ["print this help and exit"])
    /// `-V`, `--version`: prints `<executable> <agentVersion>`.
    public static let versionOption = Option("-V", aliases: ["--version"], showsAliases: true, help: ["print the version and exit"])

    /// - Parameters:
    ///   - name: the name failure lines start with.
    ///   - command: how the program is run, for the usage line and the hint of a usage
    ///     error ("claude-agent bridge"); `name` when nil.
    ///   - options: the option table, `helpOption` (and `versionOption`) included.
    ///   - synopsis: the usage line after the command ("[--listen ADDRESS:PORT]...").
    ///   - description: what the program does, before the options.
    ///   - notes: more prose, after the options.
    public init(name: String, command: String? = nil, options: [Option], synopsis: String,
                description: String, notes: String? = nil) {
        self.name = name
        let command = command ?? name
        helpCommand = command + " --help"
        self.options = options
        var text = "usage: \(command) \(synopsis)\n\n\(description)\n\noptions:\n\(Option.helpSection(options))\n"
        if let notes { text += "\n\(notes)\n" }
        help = text
    }

    /// The arguments parsed against `options`. `-h` prints `help` and exits 0; `-V` (when
    /// in the table) prints `<executable> <agentVersion>` and exits 0; a mistake is a usage
    /// error (exit 2).
    public func parse(_ arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                      executable: String? = nil) -> Arguments {
        let parsed: Arguments
        do throws(Arguments.UsageError) {
            parsed = try Arguments(arguments, spec: CommandSpec(options))
        } catch {
            usageError(error.message)
        }
        if parsed.has(Self.helpOption.name) {
            try? FileDescriptor.standardOutput.writeAll(Array(help.utf8))
            ProcessControl.exit(0)
        }
        if parsed.has(Self.versionOption.name) {
            try? FileDescriptor.standardOutput.writeAll(Array("\(executable ?? name) \(agentVersion)\n".utf8))
            ProcessControl.exit(0)
        }
        return parsed
    }

    /// `option`'s value in `parsed` as a whole number of `unit` within `range`
    /// (`Arguments.number`), nil when absent; a usage error (exit 2) when it is not one.
    public func number(_ parsed: Arguments, _ option: String, in range: ClosedRange<Int64>, unit: String) -> Int64? {
        do throws(Arguments.UsageError) {
            return try parsed.number(option, in: range, unit: unit)
        } catch {
            usageError(error.message)
        }
    }

    /// A failure: one line on standard error and the exit status the code maps to.
    public func fail(_ code: ErrorCode, _ message: String) -> Never {
        Self.fail(name, code, message)
    }

    /// A usage error, pointing at the help (exit 2).
    public func usageError(_ message: String) -> Never {
        fail(.usage, "\(message) (see '\(helpCommand)')")
    }

    /// `<program>: <code>: <message>` on standard error, then exit with the status
    /// `ExitCode` maps the code to. The message may carry text from the agent or a peer:
    /// its control characters are escaped (`FreeText.escaped`), so it stays one line and
    /// cannot drive the terminal.
    public static func fail(_ program: String, _ code: ErrorCode, _ message: String) -> Never {
        try? FileDescriptor.standardError.writeAll(Array("\(program): \(code.rawValue): \(FreeText.escaped(message))\n".utf8))
        ProcessControl.exit(ExitCode(code).rawValue)
    }
}
