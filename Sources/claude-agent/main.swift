// claude-agent: the command-line face of the agent. It parses arguments, talks to the
// agent over its socket through ClaudeAgentClient, and prints. No networking here: the
// daemon (claude-agentd) does that, so this binary starts fast inside $(...).
import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient

Signals.unblockAll()
let commandLine = Array(CommandLine.arguments.dropFirst())
guard let command = commandLine.first else {
    Output.err(Help.main + "\n")
    ProcessControl.exit(ExitCode.usage.rawValue)
}
let rest = Array(commandLine.dropFirst())

switch command {
case "-h", "--help", "help":
    if rest.first == "endpoint" {
        EndpointCommand.run(["--help"])
    } else if let topic = rest.first, let text = Help.commands[topic] {
        Output.out(text + "\n")
    } else {
        Output.out(Help.main + "\n")
    }
case "--version", "version":
    Output.out("claude-agent \(agentVersion)\n")
case "-k":
    Lifecycle.stop(rest)
case "endpoint":
    // A program of its own (HTTPS needs FoundationNetworking): its options and --help are its.
    EndpointCommand.run(rest)
default:
    guard Help.commands[command] != nil else {
        Output.usage("unknown command \"\(command)\"", command: nil)
    }
    if rest.contains("-h") || rest.contains("--help") {
        Output.out((Help.commands[command] ?? Help.main) + "\n")
        ProcessControl.exit(0)
    }
    switch command {
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
    case "login": Login.login(rest)
    case "logout": Login.logout(rest)
    case "bridge": BridgeCommand.run(rest)
    case "requests": Requests.list(rest)
    case "approve": Requests.approve(rest)
    case "deny": Requests.deny(rest)
    default: Output.usage("unknown command \"\(command)\"", command: nil)
    }
}
ProcessControl.exit(0)
