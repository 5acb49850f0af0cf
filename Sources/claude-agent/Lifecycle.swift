import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient
import Glibc

/// `start`, `stop` and `serve`: the agent's life, as ssh-agent and `ssh-agent -k` manage it.
enum Lifecycle {
    static let shellFlags: [String: [String]] = ["-s": [], "-c": [], "--fish": []]

    static func start(_ arguments: [String]) {
        let parsed = parse(arguments, command: "start", flags: shellFlags.merging(daemonFlags) { a, _ in a },
                           options: ["-a": ["--socket"], "-t": ["--lifetime"]].merging(daemonOptions) { a, _ in a })
        let shell = ShellSyntax(arguments: parsed)
        let lifetime = seconds(parsed, "-t", command: "start")
        let path = parsed.value("-a") ?? SocketPath.defaultPath()

        if let status = try? AgentClient(socketPath: path, timeoutMilliseconds: 5000).status() {
            if lifetime != nil { Output.err("claude-agent: an agent is already running (pid \(status.pid)); -t not applied\n") }
            printVariables(shell, socket: path, pid: status.pid)
            return
        }
        let pid = spawnAgent(path: path, explicitPath: parsed.value("-a") != nil, lifetime: lifetime,
                             passThrough: daemonArguments(parsed))
        printVariables(shell, socket: path, pid: pid)
    }

    static func printVariables(_ shell: ShellSyntax, socket: String, pid: Int32) {
        Output.out(shell.set("CLAUDE_AGENT_SOCK", socket) + shell.set("CLAUDE_AGENT_PID", String(pid)) + "echo Agent pid \(pid);\n")
    }

    /// Starts claude-agentd detached and returns once its socket answers, with the pid the
    /// agent itself reports (which is another agent's if a concurrent start won the race).
    static func spawnAgent(path: String, explicitPath: Bool, lifetime: Int64?, passThrough: [String]) -> Int32 {
        let daemon = daemonPath()
        var daemonArguments: [String] = passThrough
        if explicitPath { daemonArguments += ["-a", path] }
        if let lifetime { daemonArguments += ["-t", String(lifetime)] }
        let child: Int32
        let errors: FileDescriptor
        do throws(Errno) {
            let pipe = try FileDescriptor.pipe()
            defer { pipe.write.close() }
            errors = pipe.read
            child = try ProcessControl.spawnDetached(daemon, arguments: daemonArguments, standardError: pipe.write)
        } catch {
            Output.fail("could not start \(daemon): \(error)", .failure)
        }
        defer { errors.close() }
        let deadline = Clock.monotonicMilliseconds() + 10_000
        while Clock.monotonicMilliseconds() < deadline {
            if let status = try? AgentClient(socketPath: path, timeoutMilliseconds: 2000).status() {
                return status.pid
            }
            if let exitStatus = ProcessControl.reapIfExited(child) {
                if let status = try? AgentClient(socketPath: path, timeoutMilliseconds: 2000).status() {
                    return status.pid
                }
                let message = String(decoding: Terminal.readAll(from: errors, limit: 4096) ?? [], as: UTF8.self)
                let reason = message.isEmpty ? "it exited with status \(exitStatus)" : message.trimmingTrailingNewlines
                Output.fail("the agent did not start: \(reason)", .failure)
            }
            Clock.sleep(milliseconds: 5)
        }
        Output.fail("the agent (pid \(child)) did not answer at \(path) within 10 s", .failure)
    }

    /// claude-agentd beside this executable (as installed together), else on PATH.
    static func daemonPath() -> String {
        siblingExecutable("claude-agentd")
    }

    /// A program of the package beside this executable (as installed together), else on PATH.
    static func siblingExecutable(_ name: String) -> String {
        if let executable = ProcessControl.executablePath() {
            let sibling = FileSystem.directoryName(executable) + "/" + name
            if access(sibling, X_OK) == 0 { return sibling }
        }
        for directory in (ProcessControl.environment("PATH") ?? "/usr/local/bin:/usr/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        Output.fail("\(name) was found neither beside claude-agent nor on PATH", .failure)
    }

    static func stop(_ arguments: [String]) {
        let parsed = parse(arguments, command: "stop", flags: shellFlags.merging(["-k": []]) { a, _ in a }, options: ["-a": ["--socket"]])
        let shell = ShellSyntax(arguments: parsed)
        let client = Commands.client(parsed)
        let pid: Int32
        do throws(AgentClientError) {
            pid = try client.stop()
        } catch {
            Output.fail(error)
        }
        // The agent removed its socket before answering; wait briefly for it to exit.
        let deadline = Clock.monotonicMilliseconds() + 3000
        while pid > 0 && Signals.processExists(pid) && Clock.monotonicMilliseconds() < deadline {
            _ = ProcessControl.reapIfExited(pid)
            Clock.sleep(milliseconds: 5)
        }
        Output.out(shell.unset("CLAUDE_AGENT_SOCK") + shell.unset("CLAUDE_AGENT_PID") + "echo Agent pid \(pid) killed;\n")
    }

    /// Replaces this process with claude-agentd in the foreground.
    /// Options `start` and `serve` hand to claude-agentd unchanged.
    static let daemonFlags: [String: [String]] = ["--refresh-ahead": []]
    static let daemonOptions: [String: [String]] = ["--skew": [], "--config": [], "--import": [], "--persist": [],
                                                    "--import-account": [], "--callback-url": [], "--idle-timeout": [],
                                                    "--fetch-helper": []]

    static func daemonArguments(_ parsed: Arguments) -> [String] {
        var arguments: [String] = []
        for flag in daemonFlags.keys.sorted() where parsed.has(flag) { arguments.append(flag) }
        for option in daemonOptions.keys.sorted() {
            for value in parsed.all(option) { arguments += [option, value] }
        }
        return arguments
    }

    static func serve(_ arguments: [String]) {
        let parsed = parse(arguments, command: "serve", flags: daemonFlags,
                           options: ["-a": ["--socket"], "-t": ["--lifetime"]].merging(daemonOptions) { a, _ in a })
        var daemonArguments: [String] = daemonArguments(parsed)
        if let path = parsed.value("-a") { daemonArguments += ["-a", path] }
        if let lifetime = seconds(parsed, "-t", command: "serve") { daemonArguments += ["-t", String(lifetime)] }
        let daemon = daemonPath()
        do throws(Errno) {
            try ProcessControl.exec(daemon, arguments: daemonArguments)
        } catch {
            Output.fail("could not run \(daemon): \(error)", .failure)
        }
    }

    static func parse(_ arguments: [String], command: String, flags: [String: [String]], options: [String: [String]]) -> Arguments {
        do throws(Arguments.UsageError) {
            let parsed = try Arguments(arguments, flags: flags, options: options)
            try parsed.noPositionals()
            return parsed
        } catch {
            Output.usage(error.message, command: command)
        }
    }

    static func seconds(_ parsed: Arguments, _ option: String, command: String) -> Int64? {
        do throws(Arguments.UsageError) {
            return try parsed.seconds(option)
        } catch {
            Output.usage(error.message, command: command)
        }
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}
