import Foundation
import Testing

/// What `claude-agent --help` and `claude-agent COMMAND --help` print, read from the built
/// CLI: the table the man page and the completions are held to.
enum HelpTable {
    /// - Throws: when the CLI cannot be run or does not exit 0: a table read from nothing
    ///   would hold every comparison to nothing.
    static func text(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.cli)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "claude-agent \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        return String(decoding: data, as: UTF8.self)
    }

    /// The commands listed under "commands:" in the main help.
    static func commands() throws -> [String] {
        let main = try text(["--help"])
        let start = try #require(main.range(of: "commands:\n"), "claude-agent --help has no commands: list")
        return main[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { !$0.isEmpty }
            .compactMap { line in line.split(separator: " ").first.map(String.init) }
    }

    /// Every option a command's help names (usage line, option list and prose), without
    /// -h/--help, which every command takes.
    static func options(of command: String) throws -> Set<String> {
        let help = try text([command, "--help"])
        let pattern = try! NSRegularExpression(pattern: #"(?<![\w-])(--?[A-Za-z][A-Za-z-]*)"#)
        let matches = pattern.matches(in: help, range: NSRange(help.startIndex..., in: help))
        return Set(matches.compactMap { Range($0.range(at: 1), in: help).map { String(help[$0]) } })
            .subtracting(["-h", "--help"])
    }

    /// The exit-status lines: "0  success", ...
    static func exitStatuses() throws -> [(Int, String)] {
        try text(["--help"]).split(separator: "\n").compactMap { line in
            let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
            guard words.count == 2, let code = Int(words[0]) else { return nil }
            return (code, words[1].trimmingCharacters(in: .whitespaces))
        }
    }
}

/// claude-agent(1), held to `--help`.
@Suite("The manual page")
struct ManualPageTests {
    static let path = Repository.root + "/contrib/claude-agent.1"
    /// - Throws: when the page cannot be read (then every check below would pass on nothing).
    static func source() throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// The entry of each command: from its `.\" command: NAME` line to the next.
    static func entries() throws -> [String: String] {
        var result: [String: String] = [:]
        let parts = try source().components(separatedBy: ".\\\" command: ").dropFirst()
        for part in parts {
            let name = String(part.prefix { $0 != "\n" })
            result[name] = part.components(separatedBy: ".\\\" end of commands").first ?? part
        }
        return result
    }

    /// The options an entry names with `Fl`: `.Fl -scope` is --scope, `Fl s | c | -fish` three.
    static func options(in entry: String) -> Set<String> {
        var found: Set<String> = []
        for line in entry.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            var index = 0
            while index < words.count {
                if words[index] == "Fl" || words[index] == ".Fl" {
                    index += 1
                    // Fl takes flags until the next macro or punctuation-only word; `|` separates.
                    while index < words.count, let first = words[index].first, first.isLetter || first == "-" || words[index] == "|" {
                        if words[index] != "|", !isMacro(words[index]) { found.insert("-" + words[index]) }
                        if isMacro(words[index]) { break }
                        index += 1
                    }
                } else {
                    index += 1
                }
            }
        }
        return found.subtracting(["-h", "--help"])
    }

    static func isMacro(_ word: String) -> Bool {
        ["Ar", "Oc", "Op", "Oo", "Cm", "Ns", "Pq", "Qq", "Dq", "No", "Ev", "Pa", "Xr", "Ic", "Fl"].contains(word)
    }

    @Test("mandoc -T lint finds nothing to warn about",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/mandoc"), "needs mandoc (Debian's mandoc)"))
    func lint() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run("/usr/bin/mandoc", ["-T", "lint", "-W", "warning", Self.path])
        #expect(result.status == 0)
        #expect(result.stdout + result.stderr == "")
    }

    @Test("every command in --help has an entry, and every entry is a command in --help")
    func commands() throws {
        let commands = try HelpTable.commands()
        #expect(!commands.isEmpty)
        #expect(Set(try Self.entries().keys) == Set(commands))
    }

    @Test("each command's entry names exactly the options its --help names")
    func options() throws {
        let entries = try Self.entries()
        for command in try HelpTable.commands() {
            let help = try HelpTable.options(of: command)
            let manual = Self.options(in: entries[command] ?? "")
            #expect(help.subtracting(manual).isEmpty, "\(command): in --help, not in the man page: \(help.subtracting(manual).sorted())")
            #expect(manual.subtracting(help).isEmpty, "\(command): in the man page, not in --help: \(manual.subtracting(help).sorted())")
        }
    }

    @Test("every exit status of --help is in EXIT STATUS, with the same words")
    func exitStatuses() throws {
        let statuses = try HelpTable.exitStatuses()
        #expect(statuses.count >= 8)
        let section = try Self.source().components(separatedBy: ".Sh EXIT STATUS").last?.components(separatedBy: ".Sh ").first ?? ""
        for (code, meaning) in statuses {
            #expect(section.contains(".It \(code)\n\(meaning)\n"), "exit status \(code) \(meaning)")
        }
    }

    @Test("every environment variable the sources read is in ENVIRONMENT")
    func environment() throws {
        let section = try Self.source().components(separatedBy: ".Sh ENVIRONMENT").last?.components(separatedBy: ".Sh ").first ?? ""
        let pattern = try NSRegularExpression(pattern: #""((?:CLAUDE|XDG|LISTEN|NOTIFY)_[A-Z_]+|SHELL|DISPLAY|WAYLAND_DISPLAY)""#)
        var names: Set<String> = []
        let enumerator = FileManager.default.enumerator(atPath: Repository.root + "/Sources")
        while let file = enumerator?.nextObject() as? String {
            guard file.hasSuffix(".swift") else { continue }
            let text = try String(contentsOfFile: Repository.root + "/Sources/" + file, encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { names.insert(String(text[range])) }
            }
        }
        #expect(names.contains("CLAUDE_AGENT_SOCK") && names.contains("NOTIFY_SOCKET"))
        for name in names.sorted() {
            #expect(section.range(of: #"\b\#(name)\b"#, options: .regularExpression) != nil, "\(name) is not in ENVIRONMENT")
        }
    }
}

/// The bash, zsh and fish completions, run in the shells themselves and held to `--help`.
@Suite("Shell completions")
struct CompletionTests {
    static let directory = Repository.root + "/contrib/completion"
    static var hasZsh: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/zsh") }
    static var hasFish: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/fish") }

    enum Shell: String, CaseIterable, CustomStringConvertible {
        case bash, zsh, fish
        var description: String { rawValue }
        var available: Bool {
            switch self {
            case .bash: return true
            case .zsh: return CompletionTests.hasZsh
            case .fish: return CompletionTests.hasFish
            }
        }
    }

    /// The candidates `shell` offers for the command line `words` (the last word is the one
    /// being completed), one per line, with the built binaries first on PATH.
    static func complete(_ shell: Shell, _ words: [String], in sandbox: Sandbox) throws -> [String] {
        let quoted = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let result: CommandResult
        switch shell {
        case .bash:
            // As bash does on Tab: COMP_WORDS, COMP_CWORD, then the function `complete -p` names.
            let script = """
                source \(directory)/claude-agent.bash
                function=$(complete -p claude-agent | sed -n 's/.*-F \\([^ ]*\\) claude-agent$/\\1/p')
                COMP_WORDS=("$@")
                COMP_CWORD=$(( $# - 1 ))
                "$function" claude-agent
                printf '%s\\n' "${COMPREPLY[@]}"
                """
            result = try sandbox.run("/bin/bash", ["--norc", "--noprofile", "-c", script, "bash"] + words,
                                     environment: ["PATH": Binaries.directory + ":/usr/bin:/bin"])
        case .zsh:
            // A harness for the completion function: compadd and _files print what they
            // are given (zsh itself would filter by the prefix, which is done below).
            result = try sandbox.run("/usr/bin/zsh", ["-f", "-c", """
                compadd() { if [[ $1 == -a ]]; then print -rl -- ${(P)2}; return; fi
                            while (( $# )) && [[ $1 != -- ]]; do shift; done; shift; print -rl -- "$@"; }
                _files() { print -r -- '<files>'; }
                fpath=(\(directory) $fpath)
                autoload -Uz _claude-agent
                words=(\(quoted))
                CURRENT=${#words}
                _claude-agent
                """], environment: ["PATH": Binaries.directory + ":/usr/bin:/bin"])
        case .fish:
            result = try sandbox.run("/usr/bin/fish", ["--no-config", "-c", """
                source \(directory)/claude-agent.fish
                complete -C '\(words.joined(separator: " ").replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'"))'

                """], environment: ["PATH": Binaries.directory + ":/usr/bin:/bin"])
        }
        #expect(result.status == 0, "\(shell) \(words): \(result.stderr)")
        let prefix = words.last ?? ""
        return result.stdout.split(separator: "\n").map { line in
            String(line.split(separator: "\t", maxSplits: 1).first ?? "")  // fish: "candidate\tdescription"
        }.filter { $0.hasPrefix(prefix) }
    }

    @Test("the first word completes to every command", arguments: Shell.allCases)
    func commands(shell: Shell) throws {
        try #require(shell.available, "needs \(shell) (Debian's \(shell))")
        let sandbox = try Sandbox()
        let offered = Set(try Self.complete(shell, ["claude-agent", ""], in: sandbox))
        let commands = Set(try HelpTable.commands())
        #expect(commands.subtracting(offered).isEmpty, "\(shell) misses \(commands.subtracting(offered))")
        #expect(try Self.complete(shell, ["claude-agent", "to"], in: sandbox) == ["token"])
    }

    @Test("each command's options are exactly those its --help names", arguments: Shell.allCases)
    func options(shell: Shell) throws {
        try #require(shell.available, "needs \(shell) (Debian's \(shell))")
        let sandbox = try Sandbox()
        for command in try HelpTable.commands() {
            let offered = Set(try Self.complete(shell, ["claude-agent", command, "-"], in: sandbox)).subtracting(["-h", "--help"])
            let help = try HelpTable.options(of: command)
            #expect(offered == help,
                    "\(shell) \(command): missing \(help.subtracting(offered).sorted()), extra \(offered.subtracting(help).sorted())")
        }
    }

    @Test("account names come from the running agent; request ids for approve and deny", arguments: Shell.allCases)
    func liveNames(shell: Shell) throws {
        try #require(shell.available, "needs \(shell) (Debian's \(shell))")
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        for name in ["work", "personal@example.com"] {
            #expect(try sandbox.cli("add", "--account", name, stdin: bundle("at-\(name.replacingOccurrences(of: "@", with: "."))")).status == 0)
        }
        let connection = try RawConnection(path: daemon.socket)
        defer { connection.close() }
        let created = try connection.call(#"{"id": 1, "op": "request.create", "scopes": ["user:other"], "client_name": "test"}"#)
        let id = try #require(created.result?["request_id"] as? String)
        // CLAUDE_AGENT_SOCK reaches the shells through the sandbox's environment.
        sandbox.environment["CLAUDE_AGENT_SOCK"] = daemon.socket
        #expect(Set(try Self.complete(shell, ["claude-agent", "token", "--account", ""], in: sandbox)) == ["work", "personal@example.com"])
        #expect(try Self.complete(shell, ["claude-agent", "token", "--account", "pe"], in: sandbox) == ["personal@example.com"])
        #expect(Set(try Self.complete(shell, ["claude-agent", "remove", ""], in: sandbox)) == ["work", "personal@example.com"])
        #expect(try Self.complete(shell, ["claude-agent", "approve", ""], in: sandbox) == [id])
        #expect(try Self.complete(shell, ["claude-agent", "deny", ""], in: sandbox) == [id])
        #expect(Set(try Self.complete(shell, ["claude-agent", "approve", id, "--account", ""], in: sandbox)) == ["work", "personal@example.com"])
        // No agent: no names, and no error.
        sandbox.environment["CLAUDE_AGENT_SOCK"] = sandbox.root + "/none.sock"
        #expect(try Self.complete(shell, ["claude-agent", "approve", ""], in: sandbox) == [])
    }
}

/// scripts/install into a temporary prefix and HOME, from the binaries this test run built.
@Suite("scripts/install")
struct InstallScriptTests {
    static let script = Repository.root + "/scripts/install"

    /// The libraries an installed executable may need, as README's "Installing" lists them
    /// (between the runtime-libraries markers): "library  package" per line.
    static func documentedLibraries() throws -> [String: String] {
        let readme = try String(contentsOfFile: Repository.root + "/README.md", encoding: .utf8)
        let block = readme.components(separatedBy: "<!-- runtime-libraries -->").dropFirst().first ?? ""
        var result: [String: String] = [:]
        for line in block.split(separator: "\n") where line.hasPrefix("| `lib") || line.hasPrefix("| `ld-linux") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2 else { continue }
            // The first cell names one or more libraries, each in backquotes.
            for (index, name) in cells[0].split(separator: "`", omittingEmptySubsequences: false).enumerated() where index % 2 == 1 {
                result[String(name)] = cells[1]
            }
        }
        return result
    }

    /// Every regular file under `directory`, relative to it.
    static func files(under directory: String) -> Set<String> {
        var result: Set<String> = []
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result.insert(path)
            }
        }
        return result
    }

    @Test("installs every executable product, the man page, completions and units, and uninstalls exactly that")
    func installAndUninstall() throws {
        let sandbox = try Sandbox()
        let prefix = sandbox.root + "/prefix"
        // Something of the user's already in the prefix stays through install and uninstall.
        try FileManager.default.createDirectory(atPath: prefix + "/bin", withIntermediateDirectories: true)
        try "mine".write(toFile: prefix + "/bin/other-tool", atomically: true, encoding: .utf8)
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        let install = try sandbox.run(Self.script, ["--prefix", prefix, "--from", Binaries.directory],
                                      environment: environment, timeout: 120)
        #expect(install.status == 0, "\(install.stderr)")
        let home = sandbox.root
        let expected: Set<String> = [
            "bin/claude-agent", "bin/claude-agentd", "bin/claude-agent-fetch", "bin/other-tool",
            "share/man/man1/claude-agent.1",
            "share/bash-completion/completions/claude-agent",
            "share/zsh/site-functions/_claude-agent",
            "share/fish/vendor_completions.d/claude-agent.fish",
            "share/claude-agent/install-manifest",
        ]
        // Every executable product of Package.swift, found by the script, not listed in it.
        #expect(Self.files(under: prefix).isSuperset(of: expected), "\(Self.files(under: prefix).sorted())")
        #expect(Self.files(under: prefix + "/bin").subtracting(["other-tool"]) == (try Self.executableProducts()))
        #expect(Self.files(under: home + "/.config/systemd/user")
                == ["claude-agent.socket", "claude-agent.service", "claude-agent-endpoint.service"])
        let service = try String(contentsOfFile: home + "/.config/systemd/user/claude-agent.service", encoding: .utf8)
        #expect(service.contains("ExecStart=\(prefix)/bin/claude-agentd\n"))
        let endpoint = try String(contentsOfFile: home + "/.config/systemd/user/claude-agent-endpoint.service", encoding: .utf8)
        #expect(endpoint.contains("ExecStart=\(prefix)/bin/claude-agent-endpoint -a %t/claude-agent/agent.sock\n"))
        #expect(install.stdout.contains("export PATH=\"\(prefix)/bin:$PATH\""), "\(install.stdout)")
        #expect(install.stdout.contains("installed \(prefix)/bin/claude-agent\n"))

        // The installed CLI runs from the prefix and finds its agent beside it.
        let started = try sandbox.run(prefix + "/bin/claude-agent", ["start", "-s"])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(try sandbox.run(prefix + "/bin/claude-agent", ["stop"]).status == 0)

        let uninstall = try sandbox.run(Self.script, ["--prefix", prefix, "--uninstall"], environment: environment)
        #expect(uninstall.status == 0, "\(uninstall.stderr)")
        #expect(Self.files(under: prefix) == ["bin/other-tool"])
        #expect(!FileManager.default.fileExists(atPath: prefix + "/share"), "directories install made are removed")
        #expect(!FileManager.default.fileExists(atPath: home + "/.config/systemd/user/claude-agent.socket"))
        let again = try sandbox.run(Self.script, ["--prefix", prefix, "--uninstall"], environment: environment)
        #expect(again.status == 1)
        #expect(again.stderr.contains("nothing to uninstall"))
    }

    /// The executable products Package.swift declares (what the script must find).
    /// - Throws: when Package.swift cannot be read or names no executable: the loops over
    ///   the products would check nothing.
    static func executableProducts() throws -> Set<String> {
        let manifest = try String(contentsOfFile: Repository.root + "/Package.swift", encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"\.executable\(name: "([^"]+)""#)
        let products = Set(pattern.matches(in: manifest, range: NSRange(manifest.startIndex..., in: manifest)).compactMap {
            Range($0.range(at: 1), in: manifest).map { String(manifest[$0]) }
        })
        try #require(!products.isEmpty, "Package.swift declares no .executable product")
        return products
    }

    @Test("each installed executable needs only the documented Debian libraries, none from the Swift toolchain")
    func runtimeLibraries() throws {
        let documented = try Self.documentedLibraries()
        #expect(documented["libcurl.so.4"] == "libcurl4", "README lists \(documented)")
        let sandbox = try Sandbox()
        for product in try Self.executableProducts().sorted() where !Self.staticExecutables.contains(product) {
            let binary = Binaries.directory + "/" + product
            let ldd = try sandbox.run("/usr/bin/ldd", [binary])
            #expect(ldd.status == 0, "\(product): \(ldd.stderr)")
            #expect(!ldd.stdout.contains("not found"), "\(product): \(ldd.stdout)")
            #expect(!ldd.stdout.contains("/swift"), "\(product) loads from the toolchain: \(ldd.stdout)")
            // The libraries it names itself (NEEDED), each documented with its package.
            let dynamic = try sandbox.run("/usr/bin/readelf", ["-d", binary])
            let needed = dynamic.stdout.split(separator: "\n").filter { $0.contains("(NEEDED)") }.compactMap { line in
                line.split(separator: "[").last?.split(separator: "]").first.map(String.init)
            }
            #expect(!needed.isEmpty)
            for library in needed {
                #expect(documented[library] != nil, "\(product) needs \(library), which README does not list")
            }
            // And nothing the toolchain ships: no Foundation or Swift runtime library.
            #expect(!needed.contains { $0.contains("Foundation") || $0.contains("swift") || $0.contains("dispatch") },
                    "\(product): \(needed)")
        }
    }

    /// Linked with -static-executable (Package.swift): they need no library at all.
    static let staticExecutables: Set<String> = ["claude-agent"]

    /// glibc functions that go through NSS (or /etc files) and do not work, or not the
    /// same, in a statically linked program: linked in only if something calls them.
    static let nameLookups = ["getaddrinfo", "gethostbyname", "gethostbyname2", "gethostbyname_r", "gethostbyaddr",
                              "getnameinfo", "getservbyname", "getpwnam", "getpwnam_r", "getpwuid", "getpwuid_r",
                              "getgrnam", "getgrgid", "getgrouplist", "initgroups", "getspnam", "iconv_open", "dlopen_nss"]

    @Test("the CLI is a static executable that links no name or user lookup")
    func staticCLI() throws {
        let sandbox = try Sandbox()
        for product in Self.staticExecutables.sorted() {
            let binary = Binaries.directory + "/" + product
            let dynamic = try sandbox.run("/usr/bin/readelf", ["-d", binary])
            #expect(dynamic.stdout.contains("There is no dynamic section"), "\(product): \(dynamic.stdout)")
            let symbols = try sandbox.run("/usr/bin/readelf", ["-W", "-s", binary])
            #expect(symbols.status == 0)
            let defined = Set(symbols.stdout.split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                return fields.count >= 8 ? String(fields[7]).components(separatedBy: "@").first : nil
            })
            #expect(defined.contains("main") || defined.contains("_start"), "\(product) has no symbol table to check")
            for function in Self.nameLookups {
                #expect(!defined.contains(function), "\(product) links \(function): it must not be -static-executable")
            }
            // And it runs: no loader, no toolchain.
            let version = try sandbox.run(binary, ["--version"])
            #expect(version.status == 0)
            #expect(version.stdout.hasPrefix("claude-agent "))
        }
    }

    @Test("the CLI links no HTTP server: the bridge is claude-agent-bridge, which `claude-agent bridge` runs")
    func bridgeOutOfTheCLI() throws {
        let sandbox = try Sandbox()
        let symbols = try sandbox.run("/usr/bin/readelf", ["-W", "-s", Binaries.directory + "/claude-agent"])
        #expect(symbols.status == 0)
        // Swift mangles a module's name into each of its symbols: "10HTTPBridge".
        #expect(!symbols.stdout.contains("10HTTPBridge"), "the CLI links HTTPBridge")
        #expect(try Self.executableProducts().contains("claude-agent-bridge"))
        let help = try sandbox.cli("bridge", "--help")
        #expect(help.status == 0)
        #expect(help.stdout.hasPrefix("usage: claude-agent bridge "))
    }

    @Test("systemd-analyze verify accepts the installed units",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "needs systemd-analyze (Debian's systemd)"))
    func unitsVerify() throws {
        let sandbox = try Sandbox()
        let prefix = sandbox.root + "/prefix"
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        #expect(try sandbox.run(Self.script, ["--prefix", prefix, "--from", Binaries.directory], environment: environment,
                                timeout: 120).status == 0)
        let units = sandbox.root + "/.config/systemd/user"
        // verify also runs `man` for Documentation=man:claude-agent(1): the installed page.
        let verify = try sandbox.run("/usr/bin/systemd-analyze", ["verify", units + "/claude-agent.socket", units + "/claude-agent.service",
                                                                               units + "/claude-agent-endpoint.service"],
                                     environment: ["MANPATH": prefix + "/share/man"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stderr == "", "\(verify.stderr)")
    }
}
