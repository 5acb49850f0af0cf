import AgentArguments
import AgentProtocol

/// Parsing a command's arguments against its spec in `CommandTable` (AgentArguments), so
/// every command refuses the same kinds of mistakes the same way.
extension CommandTable {
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
}
