import AgentProtocol

/// A command line split into flags, options with values, and positional arguments.
///
/// Hand-written because the package takes no dependencies; it knows only what each
/// command declares, and every surprise is a usage error naming the argument.
struct Arguments {
    var flags: Set<String> = []
    var values: [String: [String]] = [:]
    var positionals: [String] = []

    struct UsageError: Error { let message: String }

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

    func value(_ option: String) -> String? { values[option]?.last }

    func all(_ option: String) -> [String] { values[option] ?? [] }

    /// The option's value as whole seconds within `range` (`NumberRange`), nil when absent.
    func seconds(_ option: String, in range: ClosedRange<Int64>) throws(UsageError) -> Int64? {
        guard let text = value(option) else { return nil }
        guard let value = Int64(text), range.contains(value) else {
            throw UsageError(message: "\(option) needs a whole number of seconds \(NumberRange.describe(range, unit: "")), not \"\(text)\"")
        }
        return value
    }

    func noPositionals() throws(UsageError) {
        if let extra = positionals.first { throw UsageError(message: "unexpected argument \"\(extra)\"") }
    }
}
