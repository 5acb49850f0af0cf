// claude-agentd: the agent itself. `claude-agent start` runs it detached and
// `claude-agent serve` in the foreground; it only parses arguments and runs AgentCore.
import AgentCore
import AgentPOSIX
import AgentProtocol

let usage = """
    usage: claude-agentd [-a SOCKET] [-t SECONDS] [--skew SECONDS]

    Runs the claude-agent token agent in the foreground, logging to standard error.
    Normally started by `claude-agent start` (detached) or `claude-agent serve`.

    options:
      -a SOCKET        listen on SOCKET instead of $XDG_RUNTIME_DIR/claude-agent/agent.sock
      -t SECONDS       forget added tokens after SECONDS unless the add says otherwise
      --skew SECONDS   treat tokens this close to expiry as expired (default 60)
      --version        print the version and exit
      -h, --help       print this help and exit

    """

func fail(_ message: String, code: Int32 = 1) -> Never {
    try? FileDescriptor.standardError.writeAll(Array("claude-agentd: \(message)\n".utf8))
    ProcessControl.exit(code)
}

var socketPath: String?
var lifetime: Int64?
var skew: Int64 = 60
var arguments = CommandLine.arguments.dropFirst()

func seconds(_ option: String) -> Int64 {
    guard let text = arguments.popFirst() else { fail("\(option) needs a value\n\(usage)", code: 2) }
    guard let value = Int64(text), value >= 0 else { fail("\(option): \"\(text)\" is not a number of seconds", code: 2) }
    return value
}

while let argument = arguments.popFirst() {
    switch argument {
    case "-a", "--socket":
        guard let path = arguments.popFirst() else { fail("-a needs a socket path", code: 2) }
        socketPath = path
    case "-t", "--lifetime":
        let value = seconds(argument)
        guard value > 0 else { fail("-t needs a positive number of seconds", code: 2) }
        lifetime = value
    case "--skew":
        skew = seconds(argument)
    case "--version":
        print("claude-agentd \(agentVersion)")
        ProcessControl.exit(0)
    case "-h", "--help":
        print(usage, terminator: "")
        ProcessControl.exit(0)
    default:
        fail("unknown argument \"\(argument)\"\n\(usage)", code: 2)
    }
}

let configuration = AgentConfiguration(
    socketPath: socketPath ?? SocketPath.defaultPath(),
    managesDirectory: socketPath == nil,
    defaultLifetime: lifetime,
    expirySkew: skew,
    version: agentVersion)
let agent = Agent(configuration: configuration)
do {
    try agent.start()
    try agent.run()
} catch {
    fail("\(error)")
}
