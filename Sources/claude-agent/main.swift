// claude-agent: the command-line face of the agent. It parses arguments, talks to the
// agent over its socket through ClaudeAgentClient, and prints. No networking here: the
// daemon (claude-agentd) does that, so this binary starts fast inside $(...).
import AgentArguments
import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient

Signals.unblockAll()

/// The options every command takes, accepted before the command as well as after it
/// (`claude-agent -a SOCKET status`, as `git -C DIR status`): `-a SOCKET`, `--help`,
/// `--version`. `-k` is `stop`, spelled as ssh-agent spells it.
let leading: Arguments
do throws(Arguments.UsageError) {
    leading = try Arguments(leading: Array(CommandLine.arguments.dropFirst()),
                            spec: CommandSpec(CommandTable.globalOptions), commands: ["-k"])
} catch {
    Output.usage(error.message, command: nil)
}
let socketArguments = leading.value("-a").map { ["-a", $0] } ?? []
var wantsHelp = leading.has(CommandLineProgram.helpOption.name)
var wantsVersion = leading.has(CommandLineProgram.versionOption.name)
var arguments = leading.positionals[...]
var command = arguments.popFirst()
var rest = Array(arguments)
if command == "help" {
    wantsHelp = true
    command = rest.first
    rest = []
} else if command == "version" {
    wantsVersion = true
    command = nil
}
// --help and --version after the command too (before a "--"), touching nothing; exec's
// own options end where its command begins (`exec claude --help` runs claude).
let options = command == "exec" ? ArraySlice(Exec.split(rest).own) : rest.prefix { $0 != "--" }
if options.contains("-h") || options.contains("--help") { wantsHelp = true }
if options.contains("-V") || options.contains("--version") { wantsVersion = true }

if wantsVersion && !wantsHelp {
    Output.out("claude-agent \(agentVersion)\n")
    ProcessControl.exit(0)
}
if wantsHelp && command == "endpoint" {
    // A program of its own (HTTPS needs FoundationNetworking): its options and help are its.
    SiblingProgram.exec(SiblingProgram.endpoint, ["--help"])
}
if wantsHelp && command == "bridge" {
    // A program of its own (an HTTP server the CLI does not link): its options and help are its.
    SiblingProgram.exec(SiblingProgram.bridge, ["--help"])
}
if wantsHelp {
    if let command {
        let topic = command == "-k" ? "stop" : command
        guard let text = Help.text(of: topic) else { Output.usage("unknown command \"\(command)\"", command: nil) }
        Output.out(text + "\n")
    } else {
        Output.out(Help.main + "\n")
    }
    ProcessControl.exit(0)
}
guard let command else { Output.usage("a command is needed", command: nil) }
rest = socketArguments + rest
if let ignored = SocketPath.ignoredRuntimeDirectory() {
    Output.err("claude-agent: \(SocketPath.ignoredRuntimeDirectoryWarning(ignored))\n")
}

switch command {
case "-k": Lifecycle.stop(rest)
case "start": Lifecycle.start(rest)
case "stop": Lifecycle.stop(rest)
case "serve": Lifecycle.serve(rest)
case "status": Commands.status(rest)
case "list": Commands.list(rest)
case "add": Commands.add(rest)
case "remove": Commands.remove(rest)
case "lock": Commands.lock(rest)
case "unlock": Commands.unlock(rest)
case "token": Commands.token(rest)
case "exec": Exec.run(rest)
case "login": Login.login(rest)
case "logout": Login.logout(rest)
case "bridge": SiblingProgram.exec(SiblingProgram.bridge, rest)
case "endpoint": SiblingProgram.exec(SiblingProgram.endpoint, rest)
case "requests": Requests.list(rest)
case "approve": Requests.approve(rest)
case "deny": Requests.deny(rest)
default: Output.usage("unknown command \"\(command)\"", command: nil)
}
ProcessControl.exit(0)
