import AgentArguments
import Testing

/// The CLI's option table (`CommandTable`) is the source: each command's `--help`, its
/// entry in the man page and each shell's completions name exactly the options the table
/// declares for it (canonical names; aliases such as --socket are the man page's to
/// spell out). `bridge` and `endpoint` are programs of their own, with their own tables.
@Suite("The option table")
struct OptionTableTests {
    static let commands = CommandTable.specs.keys.sorted()

    /// The canonical names `command` accepts.
    static func declared(_ command: String) -> Set<String> {
        Set(CommandTable.specs[command]?.declared.map(\.name) ?? []).subtracting(["-h", "--help"])
    }

    static func difference(_ found: Set<String>, _ command: String) -> String {
        let table = declared(command)
        return "\(command): missing \(table.subtracting(found).sorted()), not in the table \(found.subtracting(table).sorted())"
    }

    @Test("the table's commands are the main help's, less the programs of their own")
    func commandsAreTheHelps() {
        #expect(Set(Self.commands) == Set(HelpTable.commands).subtracting(["bridge", "endpoint"]))
    }

    @Test("every option a command's --help names is in its table entry, and every entry is named", arguments: commands)
    func help(command: String) {
        #expect(!Self.declared(command).isEmpty)
        let named = HelpTable.options(of: command)
        #expect(named == Self.declared(command), "\(Self.difference(named, command))")
    }

    @Test("every option of the man page's entry is in the table, and every table option is in the entry", arguments: commands)
    func manualPage(command: String) {
        let named = ManualPageTests.options(in: ManualPageTests.entries()[command] ?? "")
        #expect(named == Self.declared(command), "\(Self.difference(named, command))")
    }

    @Test("each shell completes exactly the table's options", arguments: CompletionTests.Shell.allCases)
    func completions(shell: CompletionTests.Shell) throws {
        try #require(shell.available, "needs \(shell) (Debian's \(shell))")
        let sandbox = try Sandbox()
        for command in Self.commands {
            let offered = Set(try CompletionTests.complete(shell, ["claude-agent", command, "-"], in: sandbox)).subtracting(["-h", "--help"])
            #expect(offered == Self.declared(command), "\(shell) \(Self.difference(offered, command))")
        }
    }

    @Test("every option's help says something, and the described ones are a part of the declared")
    func described() {
        for (command, spec) in CommandTable.specs {
            let names = Set(spec.declared.map(\.name))
            for option in spec.described {
                #expect(names.contains(option.name), "\(command): \(option.name) described, not declared")
                #expect(!option.help.isEmpty, "\(command): \(option.name) has no help")
            }
        }
    }
}
