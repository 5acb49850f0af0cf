import AgentProtocol

/// What a command accepts, and which of its options go together. `CommandTable` holds one
/// per command, so every command refuses the same kinds of mistakes the same way.
public struct CommandSpec: Sendable {
    /// Canonical names of options without a value, with their aliases.
    public var flags: [String: [String]] = [:]
    /// Canonical names of options that take a value, with their aliases.
    public var options: [String: [String]] = [:]
    /// How many positional arguments, and what one is called in an error ("ID").
    public var positionals: (count: Int, name: String) = (0, "")
    /// Options of which at most one may be given: they contradict each other.
    public var exclusive: [[String]] = []
    /// (option, what it needs): the option does nothing without the other, so it is
    /// refused alone rather than ignored.
    public var requires: [(String, String)] = []
    /// Every option accepted, as declared (empty for a spec made of names alone).
    public var declared: [Option] = []
    /// The options the command's help describes one by one, in its order; the rest of
    /// `declared` is described elsewhere (`-a SOCKET` in the main help).
    public var described: [Option] = []

    public init(flags: [String: [String]] = [:], options: [String: [String]] = [:],
                positionals: (count: Int, name: String) = (0, ""), exclusive: [[String]] = [],
                requires: [(String, String)] = []) {
        self.flags = flags
        self.options = options
        self.positionals = positionals
        self.exclusive = exclusive
        self.requires = requires
    }

    /// A spec accepting exactly `described` and `others`, each by its name and aliases.
    public init(_ described: [Option], alsoAccepting others: [Option] = [], positionals: (count: Int, name: String) = (0, ""),
                exclusive: [[String]] = [], requires: [(String, String)] = []) {
        self.described = described
        declared = described + others
        for option in declared {
            if option.valueName == nil { flags[option.name] = option.aliases } else { options[option.name] = option.aliases }
        }
        self.positionals = positionals
        self.exclusive = exclusive
        self.requires = requires
    }
}

/// A command line split into flags, options with values, and positional arguments.
///
/// Hand-written because the package takes no dependencies; it knows only what each
/// command declares, and every surprise is a usage error naming the argument.
public struct Arguments: Sendable {
    public var flags: Set<String> = []
    public var values: [String: [String]] = [:]
    public var positionals: [String] = []
    /// Every option given, by canonical name, in the order given (with its value, nil for
    /// a flag): what is handed on must keep the user's order (`--import A --persist B`).
    public var ordered: [(name: String, value: String?)] = []

    /// A command line that does not match its spec; `message` names the argument.
    public struct UsageError: Error, Sendable {
        public let message: String
        public init(message: String) { self.message = message }
    }

    /// Parses `arguments` against `spec` and checks the spec's rules.
    public init(_ arguments: [String], spec: CommandSpec) throws(UsageError) {
        try self.init(arguments, flags: spec.flags, options: spec.options)
        if spec.positionals.count == 0 {
            if let extra = positionals.first { throw UsageError(message: "unexpected argument \"\(extra)\"") }
        } else if positionals.count != spec.positionals.count {
            let what = spec.positionals.count == 1 ? "one \(spec.positionals.name)" : "\(spec.positionals.count) \(spec.positionals.name)"
            throw UsageError(message: "expected \(what), got \(positionals.count) arguments")
        }
        for group in spec.exclusive {
            let given = group.filter { flags.contains($0) || values[$0] != nil }
            if given.count > 1 {
                throw UsageError(message: "\(given.dropLast().joined(separator: ", ")) and \(given[given.count - 1]) exclude each other")
            }
        }
        for (option, needed) in spec.requires where given(option) && !given(needed) {
            throw UsageError(message: "\(option) does nothing without \(needed)")
        }
    }

    /// Parses the options before a command (`claude-agent -a SOCKET status`, as `git -C DIR
    /// status`) against `spec`: stops at the first positional argument, or at a command
    /// spelled as an option (one of `commands`: `claude-agent -k`), and leaves it and
    /// everything after it, unparsed, in `positionals` for the command's own spec.
    public init(leading arguments: [String], spec: CommandSpec, commands: Set<String> = []) throws(UsageError) {
        try self.init(arguments, flags: spec.flags, options: spec.options, stoppingAt: commands)
    }

    /// - Parameters:
    ///   - flags: canonical names of options without a value, with their aliases.
    ///   - options: canonical names of options that take a value, with their aliases.
    ///   - commands: when not nil, parsing stops at the first positional argument or at one
    ///     of these, which with the rest go to `positionals` (`init(leading:spec:commands:)`).
    public init(_ arguments: [String], flags: [String: [String]], options: [String: [String]],
                stoppingAt commands: Set<String>? = nil) throws(UsageError) {
        var flagNames: [String: String] = [:]
        for (name, aliases) in flags { for alias in [name] + aliases { flagNames[alias] = name } }
        var optionNames: [String: String] = [:]
        for (name, aliases) in options { for alias in [name] + aliases { optionNames[alias] = name } }
        var rest = arguments[...]
        var onlyPositionals = false
        while let argument = rest.popFirst() {
            if onlyPositionals || !argument.hasPrefix("-") || argument == "-" || commands?.contains(argument) == true {
                positionals.append(argument)
                if commands != nil {
                    positionals += rest
                    return
                }
                continue
            }
            if argument == "--" {
                onlyPositionals = true
                continue
            }
            var name = argument
            var inlineValue: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            if let canonical = flagNames[name], inlineValue == nil {
                self.flags.insert(canonical)
                ordered.append((canonical, nil))
            } else if let canonical = optionNames[name] {
                guard let value = inlineValue ?? rest.popFirst() else {
                    throw UsageError(message: "\(name) needs a value")
                }
                values[canonical, default: []].append(value)
                ordered.append((canonical, value))
            } else {
                throw UsageError(message: "unknown option \(name)")
            }
        }
    }

    public func has(_ flag: String) -> Bool { flags.contains(flag) }

    /// A flag or an option with a value was given.
    public func given(_ name: String) -> Bool { flags.contains(name) || values[name] != nil }

    public func value(_ option: String) -> String? { values[option]?.last }

    public func all(_ option: String) -> [String] { values[option] ?? [] }

    /// The option's value as whole seconds within `range` (`NumberRange`), nil when absent.
    public func seconds(_ option: String, in range: ClosedRange<Int64>) throws(UsageError) -> Int64? {
        try number(option, in: range, unit: "seconds")
    }

    /// The option's value as a whole number of `unit` ("milliseconds") within `range`
    /// (`NumberRange`), nil when absent.
    /// - Throws: `UsageError` naming the option, the range and the value given.
    public func number(_ option: String, in range: ClosedRange<Int64>, unit: String) throws(UsageError) -> Int64? {
        guard let text = value(option) else { return nil }
        guard let value = Int64(text), range.contains(value) else {
            throw UsageError(message: "\(option) needs a whole number of \(unit) \(NumberRange.describe(range, unit: "")), not \"\(text)\"")
        }
        return value
    }
}
