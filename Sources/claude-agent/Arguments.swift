/// What a command accepts, and which of its options go together. `CommandTable` holds one
/// per command, so every command refuses the same kinds of mistakes the same way.
struct CommandSpec {
    /// Canonical names of options without a value, with their aliases.
    var flags: [String: [String]] = [:]
    /// Canonical names of options that take a value, with their aliases.
    var options: [String: [String]] = [:]
    /// How many positional arguments, and what one is called in an error ("ID").
    var positionals: (count: Int, name: String) = (0, "")
    /// Options of which at most one may be given: they contradict each other.
    var exclusive: [[String]] = []
    /// (option, what it needs): the option does nothing without the other, so it is
    /// refused alone rather than ignored.
    var requires: [(String, String)] = []
}

/// A command line split into flags, options with values, and positional arguments.
///
/// Hand-written because the package takes no dependencies; it knows only what each
/// command declares, and every surprise is a usage error naming the argument.
struct Arguments {
    var flags: Set<String> = []
    var values: [String: [String]] = [:]
    var positionals: [String] = []

    struct UsageError: Error { let message: String }

    /// Parses `arguments` against `spec` and checks the spec's rules.
    init(_ arguments: [String], spec: CommandSpec) throws(UsageError) {
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

    /// - Parameters:
    ///   - flags: canonical names of options without a value, with their aliases.
    ///   - options: canonical names of options that take a value, with their aliases.
    init(_ arguments: [String], flags: [String: [String]], options: [String: [String]]) throws(UsageError) {
        var flagNames: [String: String] = [:]
        for (name, aliases) in flags { for alias in [name] + aliases { flagNames[alias] = name } }
        var optionNames: [String: String] = [:]
        for (name, aliases) in options { for alias in [name] + aliases { optionNames[alias] = name } }
        var rest = arguments[...]
        var onlyPositionals = false
        while let argument = rest.popFirst() {
            if onlyPositionals || !argument.hasPrefix("-") || argument == "-" {
                positionals.append(argument)
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
            } else if let canonical = optionNames[name] {
                guard let value = inlineValue ?? rest.popFirst() else {
                    throw UsageError(message: "\(name) needs a value")
                }
                values[canonical, default: []].append(value)
            } else {
                throw UsageError(message: "unknown option \(name)")
            }
        }
    }

    func has(_ flag: String) -> Bool { flags.contains(flag) }

    /// A flag or an option with a value was given.
    func given(_ name: String) -> Bool { flags.contains(name) || values[name] != nil }

    func value(_ option: String) -> String? { values[option]?.last }

    func all(_ option: String) -> [String] { values[option] ?? [] }

    func seconds(_ option: String) throws(UsageError) -> Int64? {
        guard let text = value(option) else { return nil }
        guard let value = Int64(text), value > 0 else {
            throw UsageError(message: "\(option) needs a positive whole number of seconds, not \"\(text)\"")
        }
        return value
    }
}
