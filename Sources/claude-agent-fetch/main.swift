// claude-agent-fetch: performs one HTTP exchange for claude-agentd and exits.
//
// claude-agentd links no HTTP or TLS code (see HelperTransport): for each token refresh,
// code exchange, revocation or control-browser call it starts this program, writes the
// request to its standard input and reads the answer from its standard output, in the
// format documented in AgentTransport's HTTPExchange+Wire.swift. Secrets come only through that
// pipe and leave only through it: nothing is logged, and standard error is /dev/null.
import AgentArguments
import AgentPOSIX
import AgentProtocol
import AgentTransport
import FoundationTransport

/// Its command line: only `--help` and `--version`, through the parser every program shares.
let program = CommandLineProgram(
    name: "claude-agent-fetch", options: [CommandLineProgram.helpOption, CommandLineProgram.versionOption],
    synopsis: "< REQUEST",
    description: """
        Performs one HTTP exchange for claude-agentd: reads a JSON request on standard input,
        writes a JSON answer on standard output and exits 0. Not meant to be run by hand.
        """)

// The agent's worker threads block signals and the agent ignores SIGPIPE; the spawn
// resets both, and this makes sure whoever else starts us.
Signals.unblockAll()
// A code or refresh token passes through this process: no core file, no ptrace by other
// processes of the user, as for the agent.
try? ProcessControl.hardenAgainstMemoryDisclosure()

_ = program.parse()

let outcome: HTTPOutcome
if var request = Terminal.readAll(from: .standardInput, limit: HTTPExchange.maximumWireBytes) {
    do throws(HTTPWireError) {
        var exchange = try HTTPExchange(wire: request)
        Memory.wipe(&request)
        outcome = URLSessionTransport().send(exchange)
        Memory.wipe(&exchange.body)
    } catch {
        Memory.wipe(&request)
        outcome = .transportFailed("claude-agent-fetch cannot read the request: \(error)")
    }
} else {
    outcome = .transportFailed("claude-agent-fetch cannot read the request: unreadable or too long")
}
var answer = outcome.wireEncoded()
let written: Bool
do throws(Errno) {
    try FileDescriptor.standardOutput.writeAll(answer)
    written = true
} catch {
    written = false
}
Memory.wipe(&answer)
ProcessControl.exit(written ? 0 : 1)
