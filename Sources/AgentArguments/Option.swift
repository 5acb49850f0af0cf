/// One option as a program declares it: its names, whether it takes a value, and its help.
/// A table of these is both what the parser accepts (`CommandSpec(_:)`) and the options
/// section of `--help` (`Option.helpSection`), so the two cannot drift apart.
public struct Option: Sendable {
    /// The canonical name ("-t"), which `Arguments` reports.
    public let name: String
    /// Other spellings ("--lifetime").
    public let aliases: [String]
    /// What the value is called in help ("SECONDS"); nil for a flag.
    public let valueName: String?
    /// The help lines, without indentation.
    public let help: [String]
    /// Whether help shows the aliases too ("-h, --help"); most are left to the man page.
    public let showsAliases: Bool

    public init(_ name: String, aliases: [String] = [], value valueName: String? = nil, showsAliases: Bool = false,
                help: [String]) {
        self.name = name
        self.aliases = aliases
        self.valueName = valueName
        self.showsAliases = showsAliases
        self.help = help
    }

    /// "-t SECONDS", as a synopsis or the start of a help line shows it.
    public var synopsis: String {
        let names = showsAliases ? ([name] + aliases).joined(separator: ", ") : name
        return valueName.map { "\(names) \($0)" } ?? names
    }

    /// The column help text starts at, counted from the start of the line.
    public static let helpColumn = 25

    /// The options' help lines, each indented by two spaces and its text at `helpColumn`;
    /// a synopsis too long for the gap puts its text on the lines below.
    public static func helpSection(_ options: [Option]) -> String {
        let indent = String(repeating: " ", count: helpColumn)
        var lines: [String] = []
        for option in options {
            let head = "  " + option.synopsis
            var text = option.help[...]
            if head.count < helpColumn, let first = text.popFirst() {
                lines.append(head + String(repeating: " ", count: helpColumn - head.count) + first)
            } else {
                lines.append(head)
            }
            lines += text.map { indent + $0 }
        }
        return lines.joined(separator: "\n")
    }

    /// The synopses joined by ", " and wrapped before `width` columns, each line indented
    /// by two spaces: a list of options described elsewhere.
    public static func synopsisList(_ options: [Option], width: Int = 88) -> String {
        var lines: [String] = []
        var line = " "
        for (index, option) in options.enumerated() {
            let item = " " + option.synopsis + (index == options.count - 1 ? "" : ",")
            if line.count + item.count > width && line.count > 1 {
                lines.append(line)
                line = " "
            }
            line += item
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}

extension Option {
    /// `--listen ADDRESS:PORT`, as the bridge and the endpoint take it (both parse the
    /// value with `BridgeConfiguration.listenAddress`), listening on `defaultAddress`
    /// when not given.
    public static func listen(defaultAddress: String) -> Option {
        Option("--listen", value: "ADDRESS:PORT", help: [
            "a loopback address to listen on (127.0.0.1:PORT,",
            "[::1]:PORT, localhost:PORT or a bare PORT); repeat for",
            "several (default \(defaultAddress); port 0 picks one)",
        ])
    }

    /// `-a SOCKET`: the agent's socket, for a program that talks to the agent.
    public static let agentSocket = Option("-a", aliases: ["--socket"], value: "SOCKET",
                                           help: ["the agent's socket (default as for start)"])
}
