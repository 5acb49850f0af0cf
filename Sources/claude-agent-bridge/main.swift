// claude-agent-bridge: the HTTP bridge (`claude-agent bridge` runs it in its place).
//
// A program of its own so that the CLI, which runs inside `$(...)`, links no HTTP server
// and starts quickly; the bridge only turns HTTP calls into agent operations over the
// agent's socket. It runs in the foreground until SIGTERM or SIGINT.
import AgentArguments
import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient
import Glibc
import HTTPBridge

/// The bridge's command line: its options, declared once, are what it parses and what its
/// help lists.
let program = CommandLineProgram(
    name: "claude-agent", command: "claude-agent bridge",
    options: [
        .listen(defaultAddress: "127.0.0.1:7777"),
        .agentSocket,
        CommandLineProgram.helpOption,
    ],
    synopsis: "[--listen ADDRESS:PORT]... [-a SOCKET]",
    description: """
        Serves the token-request HTTP API (POST /v1/token-requests, GET
        /v1/token-requests/ID/status, ...), the OAuth callback and an approval page on
        loopback, turning each call into an agent operation; see Bridge.md. It keeps no
        state but a secret, written to bridge.token beside the agent's socket (mode
        0600), which approvers send as "Authorization: Bearer SECRET"; a browser gets
        it as a cookie by opening /?token=SECRET once. Runs in the foreground until
        SIGTERM or SIGINT, then removes bridge.token.
        """)

func err(_ text: String) {
    try? FileDescriptor.standardError.writeAll(Array(text.utf8))
}

Signals.unblockAll()
let parsed = program.parse()
let listen: [SocketAddress]
do throws(BridgeError) {
    listen = try BridgeConfiguration.listenAddresses(parsed.all("--listen"))
} catch {
    program.usageError(error.message)
}
let socket = SocketPath.resolve(explicit: parsed.value("-a"))
var configuration = BridgeConfiguration(socketPath: socket)
if !listen.isEmpty { configuration.listen = listen }
configuration.server.log = { Bridge.log($0) }

let signals: SignalDescriptor
do throws(Errno) {
    try Bridge.prepareProcess()
    signals = try SignalDescriptor([SIGTERM, SIGINT, SIGHUP])
} catch {
    program.fail(.bridgeFailed, "cannot prepare the bridge: \(error)")
}
let bridge: Bridge
do throws(BridgeError) {
    bridge = try Bridge(configuration: configuration)
} catch {
    program.fail(error.code, error.message)
}
if (try? AgentClient(socketPath: socket, timeoutMilliseconds: 2000).status()) == nil {
    err("claude-agent: warning: no agent answers at \(socket) yet; the bridge answers 503 until one does\n")
}
for url in bridge.urls { err("Bridge listening on \(url)\n") }
// The secret goes to a terminal, never into a log file or a journal.
if FileDescriptor.standardError.isTerminal {
    err("Approval page: \(bridge.pageURL)\n")
} else {
    err("Approval page: \(bridge.urls[0])/?token=<the content of \(bridge.tokenPath)>\n")
}
do throws(BridgeError) {
    try bridge.run(signals: signals)
} catch {
    program.fail(error.code, error.message)
}
ProcessControl.exit(0)
