import AgentArguments
import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient
import Glibc

/// `start`, `stop` and `serve`: the agent's life, as ssh-agent and `ssh-agent -k` manage it.
enum Lifecycle {
    static func start(_ arguments: [String]) {
        let parsed = CommandTable.parse("start", arguments)
        let shell = ShellSyntax(arguments: parsed)
        let lifetimeSeconds = CommandTable.seconds(parsed, "-t", command: "start")
        let path = parsed.value("-a") ?? SocketPath.defaultPath()

        if let status = try? AgentClient(socketPath: path, timeoutMilliseconds: CLILimits.runningAgentProbeMilliseconds).status() {
            let unused = ([DaemonOptions.lifetime] + DaemonOptions.passedThrough).map(\.name).filter(parsed.given)
            if !unused.isEmpty {
                Output.warn("an agent is already running (pid \(status.pid)); \(unused.joined(separator: ", ")) not applied")
            }
            printVariables(shell, socket: path, pid: status.pid)
            return
        }
        let pid = spawnAgent(path: path, explicitPath: parsed.value("-a") != nil, lifetimeSeconds: lifetimeSeconds,
                             passThrough: daemonArguments(parsed, command: "start"))
        printVariables(shell, socket: path, pid: pid)
    }

    static func printVariables(_ shell: ShellSyntax, socket: String, pid: Int32) {
        Output.out(shell.set("CLAUDE_AGENT_SOCK", socket) + shell.set("CLAUDE_AGENT_PID", String(pid)) + "echo Agent pid \(pid);\n")
    }

    /// Starts claude-agentd detached and returns once its socket answers, with the pid the
    /// agent itself reports (which is another agent's if a concurrent start won the race).
    static func spawnAgent(path: String, explicitPath: Bool, lifetimeSeconds: Int64?, passThrough: [String]) -> Int32 {
        let daemon = daemonPath()
        var daemonArguments: [String] = passThrough
        if explicitPath { daemonArguments += ["-a", path] }
        if let lifetimeSeconds { daemonArguments += ["-t", String(lifetimeSeconds)] }
        let child: Int32
        let errors: FileDescriptor
        do throws(Errno) {
            let pipe = try FileDescriptor.pipe()
            defer { pipe.write.close() }
            errors = pipe.read
            child = try ProcessControl.spawnDetached(daemon, arguments: daemonArguments, standardError: pipe.write)
        } catch {
            Output.fail(.startFailed, "could not start \(daemon): \(error)")
        }
        defer { errors.close() }
        let deadline = Clock.monotonicMilliseconds().saturatingAdding(CLILimits.startWaitMilliseconds)
        while Clock.monotonicMilliseconds() < deadline {
            if let status = try? AgentClient(socketPath: path, timeoutMilliseconds: CLILimits.startProbeMilliseconds).status() {
                return status.pid
            }
            if let exitStatus = ProcessControl.reapIfExited(child) {
                if let status = try? AgentClient(socketPath: path, timeoutMilliseconds: CLILimits.startProbeMilliseconds).status() {
                    return status.pid
                }
                let message = String(decoding: Terminal.readAll(from: errors, limit: CLILimits.startErrorBytes) ?? [], as: UTF8.self)
                failStart(daemonError: message.trimmingTrailingNewlines, exitStatus: exitStatus)
            }
            Clock.sleep(milliseconds: CLILimits.lifecyclePollMilliseconds)
        }
        Output.fail(.startFailed, "the agent (pid \(child)) did not answer at \(path) within \(CLILimits.startWaitMilliseconds / 1000) s")
    }

    /// claude-agentd failed before answering: its own `claude-agentd: <code>: <message>`
    /// line, passed on under this program's name with the same code (so a bad
    /// configuration exits 2 from `start` as from `serve`).
    static func failStart(daemonError message: String, exitStatus: Int32) -> Never {
        let line = message.split(separator: "\n").last.map(String.init) ?? ""
        let prefix = "claude-agentd: "
        if line.hasPrefix(prefix) {
            let rest = line.dropFirst(prefix.count)
            let code = rest.prefix { $0.isLowercase || $0 == "_" }
            if !code.isEmpty, rest.dropFirst(code.count).hasPrefix(": ") {
                Output.fail(ErrorCode(rawValue: String(code)), "the agent did not start: \(rest.dropFirst(code.count + 2))")
            }
        }
        Output.fail(.startFailed, "the agent did not start: \(message.isEmpty ? "it exited with status \(exitStatus)" : message)")
    }

    /// claude-agentd beside this executable (as installed together), else on PATH.
    static func daemonPath() -> String {
        siblingExecutable("claude-agentd")
    }

    /// A program of the package beside this executable (as installed together), else on
    /// PATH (`FileSystem.findBesideSelfOrOnPath`), or a `start_failed` error.
    static func siblingExecutable(_ name: String) -> String {
        if let path = FileSystem.findBesideSelfOrOnPath(name) { return path }
        Output.fail(.startFailed, "\(name) was found neither beside claude-agent nor on PATH")
    }

    static func stop(_ arguments: [String]) {
        let parsed = CommandTable.parse("stop", arguments)
        let shell = ShellSyntax(arguments: parsed)
        let client = Commands.client(parsed)
        let pid: Int32
        do throws(AgentClientError) {
            pid = try client.stop()
        } catch {
            Output.fail(error)
        }
        // The agent removed its socket before answering; wait briefly for it to exit.
        let deadline = Clock.monotonicMilliseconds().saturatingAdding(CLILimits.stopWaitMilliseconds)
        while pid > 0 && Signals.processExists(pid) && Clock.monotonicMilliseconds() < deadline {
            _ = ProcessControl.reapIfExited(pid)
            Clock.sleep(milliseconds: CLILimits.lifecyclePollMilliseconds)
        }
        Output.out(shell.unset("CLAUDE_AGENT_SOCK") + shell.unset("CLAUDE_AGENT_PID") + "echo Agent pid \(pid) killed;\n")
    }

    /// The options `start` and `serve` hand to claude-agentd, in the order given, after
    /// checking the numbers among them here, so a bad one is a usage error of this command
    /// (exit 2).
    static func daemonArguments(_ parsed: Arguments, command: String) -> [String] {
        for option in ["--skew", "--idle-timeout"] { _ = CommandTable.seconds(parsed, option, command: command) }
        return DaemonOptions.passedThroughArguments(parsed)
    }

    /// Replaces this process with claude-agentd in the foreground.
    static func serve(_ arguments: [String]) {
        let parsed = CommandTable.parse("serve", arguments)
        var daemonArguments: [String] = daemonArguments(parsed, command: "serve")
        if let path = parsed.value("-a") { daemonArguments += ["-a", path] }
        if let lifetimeSeconds = CommandTable.seconds(parsed, "-t", command: "serve") { daemonArguments += ["-t", String(lifetimeSeconds)] }
        let daemon = daemonPath()
        do throws(Errno) {
            try ProcessControl.exec(daemon, arguments: daemonArguments)
        } catch {
            Output.fail(.startFailed, "could not run \(daemon): \(error)")
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
