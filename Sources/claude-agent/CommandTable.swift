import AgentArguments
import AgentProtocol

/// Every command's arguments, in one table: what each accepts and which options contradict
/// each other or do nothing alone. A command parses through `CommandTable.parse`, so a new
/// option is one entry here and its rules are enforced like every other's.
enum CommandTable {
    /// `-a SOCKET`: every command takes it (also before the command, see main.swift).
    static let socket: [String: [String]] = ["-a": ["--socket"]]
    static let shellFlags: [String: [String]] = ["-s": [], "-c": [], "--fish": []]
    static let shellExclusive = ["-s", "-c", "--fish"]
    /// Options `start` and `serve` hand to claude-agentd unchanged: claude-agentd's own
    /// declaration (`DaemonOptions.passedThrough`).
    static let daemon = CommandSpec(DaemonOptions.passedThrough)
    static let daemonFlags = daemon.flags
    static let daemonOptions = daemon.options

    static let specs: [String: CommandSpec] = [
        "start": CommandSpec(flags: merge(shellFlags, daemonFlags), options: merge(socket, ["-t": ["--lifetime"]], daemonOptions),
                             exclusive: [shellExclusive]),
        "stop": CommandSpec(flags: merge(shellFlags, ["-k": []]), options: socket, exclusive: [shellExclusive]),
        "serve": CommandSpec(flags: daemonFlags, options: merge(socket, ["-t": ["--lifetime"]], daemonOptions)),
        "status": CommandSpec(flags: ["--json": []], options: socket),
        "list": CommandSpec(flags: ["--json": []], options: socket),
        "add": CommandSpec(flags: ["--persist": []],
                           options: merge(socket, ["--account": [], "--account-id": [], "-t": ["--lifetime"], "--from-file": []]),
                           exclusive: [["--from-file", "--account-id"], ["--from-file", "-t"]],
                           requires: [("--persist", "--from-file")]),
        "remove": CommandSpec(options: socket, positionals: (1, "ACCOUNT")),
        "lock": CommandSpec(options: socket),
        "unlock": CommandSpec(options: socket),
        "token": CommandSpec(flags: ["--json": [], "--header": [], "--wait": [], "--refresh": []],
                             options: merge(socket, ["--scope": [], "--account": [], "--timeout": []]),
                             exclusive: [["--json", "--header"]],
                             requires: [("--timeout", "--wait")]),
        // exec's own options; its COMMAND and ARGS are split off first (Exec.split).
        "exec": CommandSpec(flags: ["--wait": []], options: merge(socket, ["--scope": [], "--account": [], "--timeout": []]),
                            requires: [("--timeout", "--wait")]),
        "login": CommandSpec(flags: ["--no-browser": []],
                             options: merge(socket, ["--account": [], "--account-id": [], "--provider": [], "--scope": [],
                                                     "--port": [], "--timeout": []])),
        "logout": CommandSpec(flags: ["--no-revoke": []], options: merge(socket, ["--account": []])),
        "requests": CommandSpec(flags: ["--json": []], options: socket),
        "approve": CommandSpec(flags: ["--print-url": []], options: merge(socket, ["--account": [], "--timeout": []]),
                               positionals: (1, "request ID")),
        "deny": CommandSpec(options: merge(socket, ["--reason": []]), positionals: (1, "request ID")),
    ]

    /// The arguments of `command`, or a usage error naming what is wrong.
    static func parse(_ command: String, _ arguments: [String]) -> Arguments {
        guard let spec = specs[command] else { Output.usage("unknown command \"\(command)\"", command: nil) }
        do throws(Arguments.UsageError) {
            return try Arguments(arguments, spec: spec)
        } catch {
            Output.usage(error.message, command: command)
        }
    }

    /// `option`'s value as whole seconds within its documented range, or a usage error
    /// (exit 2): `NumberRange.waitSeconds` for `--timeout`, `offsetSeconds` for `--skew`,
    /// else `durationSeconds`.
    static func seconds(_ parsed: Arguments, _ option: String, command: String) -> Int64? {
        let range: ClosedRange<Int64>
        switch option {
        case "--timeout": range = NumberRange.waitSeconds
        case "--skew": range = NumberRange.offsetSeconds
        default: range = NumberRange.durationSeconds
        }
        do throws(Arguments.UsageError) {
            return try parsed.seconds(option, in: range)
        } catch {
            Output.usage(error.message, command: command)
        }
    }

    static func merge(_ tables: [String: [String]]...) -> [String: [String]] {
        tables.reduce(into: [:]) { result, table in result.merge(table) { first, _ in first } }
    }
}
