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
    /// Whether it may be given more than once, each adding to the last ("--scope S"...).
    public let repeats: Bool

    public init(_ name: String, aliases: [String] = [], value valueName: String? = nil, showsAliases: Bool = false,
                repeats: Bool = false, help: [String]) {
        self.name = name
        self.aliases = aliases
        self.valueName = valueName
        self.showsAliases = showsAliases
        self.repeats = repeats
        self.help = help
    }

    /// The same option (names, value, repetition) with the help a context needs: `add -t`
    /// is the lifetime of one token, claude-agentd's `-t` the default of all.
    public func describing(_ help: [String]) -> Option {
        Option(name, aliases: aliases, value: valueName, showsAliases: showsAliases, repeats: repeats, help: help)
    }

    /// "-t SECONDS", as a synopsis or the start of a help line shows it.
    public var synopsis: String {
        let names = showsAliases ? ([name] + aliases).joined(separator: ", ") : name
        return valueName.map { "\(names) \($0)" } ?? names
    }

    /// The column help text starts at, counted from the start of the line.
    public static let helpColumn = 25

    /// The column that fits `options`' synopses with two spaces to spare, at most
    /// `helpColumn`: a short table is not spread across the page.
    public static func fittingColumn(_ options: [Option]) -> Int {
        min(helpColumn, 2 + (options.map(\.synopsis.count).max() ?? 0) + 2)
    }

    /// The options' help lines, each indented by two spaces and its text at `column`;
    /// a synopsis too long for the gap puts its text on the lines below.
    public static func helpSection(_ options: [Option], column: Int = helpColumn) -> String {
        let indent = String(repeating: " ", count: column)
        var lines: [String] = []
        for option in options {
            let head = "  " + option.synopsis
            var text = option.help[...]
            if head.count < column, let first = text.popFirst() {
                lines.append(head + String(repeating: " ", count: column - head.count) + first)
            } else {
                lines.append(head)
            }
            lines += text.map { indent + $0 }
        }
        return lines.joined(separator: "\n")
    }

    /// A usage line: "usage: " and `command`, then each option in brackets ("[--import
    /// FILE]...", repeating ones marked), wrapped before `width` columns with the lines
    /// below aligned after the command.
    public static func usage(_ command: String, _ options: [Option], width: Int = 96) -> String {
        let head = "usage: \(command)"
        let indent = String(repeating: " ", count: head.count)
        var lines: [String] = []
        var line = head
        for option in options {
            let item = " [\(option.synopsis)]" + (option.repeats ? "..." : "")
            if line.count + item.count > width && line.count > head.count {
                lines.append(line)
                line = indent
            }
            line += item
        }
        lines.append(line)
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
    public static let agentSocket = DaemonOptions.socket.describing(["the agent's socket (default as for start)"])
}
