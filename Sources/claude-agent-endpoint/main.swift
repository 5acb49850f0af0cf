// claude-agent-endpoint: the local Anthropic API endpoint (`claude-agent endpoint`).
//
// A separate program because HTTPS needs FoundationNetworking (libcurl and a TLS
// library), which the static CLI and the agent do not link. It holds tokens only in
// memory, gets them from the agent's socket, and logs one audit line per request on
// standard error (the journal under systemd), never a token or a body.
import AgentArguments
import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient
import ClaudeEndpoint
import Foundation
import Glibc
import HTTPBridge

/// The endpoint's command line: its options, declared once, are what it parses and what its
/// help lists (`claude-agent endpoint --help` runs this program for it).
let program = CommandLineProgram(
    name: "claude-agent", command: "claude-agent endpoint",
    options: [
        .listen(defaultAddress: "127.0.0.1:7778"),
        Option("--account", value: "A", help: [
            "the account used when the client's key names none",
            "(default: the agent's default account)",
        ]),
        Option("--upstream", value: "URL", help: [
            "the API to forward to (default: the api_url of",
            "--account's provider, else of the default provider, as",
            "the agent says at start; else https://api.anthropic.com);",
            "plain http:// only to a loopback address",
        ]),
        Option("--upstream-timeout", value: "SECONDS", help: [
            "how long the upstream may stay silent, before its answer",
            "or within it, 1 to 3600 (default 600, the SDKs' own)",
        ]),
        .agentSocket,
        CommandLineProgram.versionOption,
        CommandLineProgram.helpOption,
    ],
    synopsis: """
        [--listen ADDRESS:PORT]... [--account A] [--upstream URL]
                                     [--upstream-timeout SECONDS] [-a SOCKET]
        """,
    description: """
        Serves the Anthropic API on loopback and forwards every request to the upstream
        with the account's current token and the provider's headers (anthropic-beta flags
        are added to the client's own); the agent refreshes the token, so a session that
        runs for days never sees one expire. Runs in the foreground until SIGTERM or
        SIGINT and logs one line per request (caller pid and executable, account, method,
        path, status, bytes each way, milliseconds), never a token or a body. Point a tool
        at it:
          claude-agent endpoint &
          export ANTHROPIC_BASE_URL=http://127.0.0.1:7778
          export ANTHROPIC_AUTH_TOKEN=claude-agent   # a placeholder; claude-agent:NAME picks an account
        ANTHROPIC_AUTH_TOKEN comes first in Claude Code's order of credentials; the SDKs
        read both variables. The key may also be sent as x-api-key (ANTHROPIC_API_KEY).
        """,
    notes: """
        Only the user's own processes are served; a request with a foreign Host, or made
        by a web browser (Origin, Sec-Fetch-* fields), is refused (403). An upstream 401
        on a token the agent still holds valid is retried once after a forced refresh.
        When no token can be had the client gets the API's own error shape with what to
        run: 503 when the agent is down or locked, 401 when the account must log in. The
        upstream's certificate is checked against the system's CA store (libcurl's
        bundle; add a private CA with update-ca-certificates). See Endpoint.md.
        """)

func log(_ message: String) {
    try? FileDescriptor.standardError.writeAll(Array("claude-agent endpoint[\(ProcessControl.currentPID)]: \(message)\n".utf8))
}

let parsed = program.parse(executable: "claude-agent-endpoint")
let listen: [SocketAddress]
do throws(BridgeError) {
    listen = try BridgeConfiguration.listenAddresses(parsed.all("--listen"))
} catch {
    program.usageError(error.message)
}
var account: AccountReference?
if let text = parsed.value("--account") {
    guard let reference = AccountReference(.string(text)) else { program.usageError("--account \(text) is not an account name or id") }
    account = reference
}
let upstreamText = parsed.value("--upstream")
var timeoutMilliseconds = EndpointConfiguration.defaultUpstreamTimeoutMilliseconds
if let text = parsed.value("--upstream-timeout") {
    guard let seconds = Int64(text), EndpointConfiguration.upstreamTimeoutSecondsRange.contains(seconds) else {
        program.usageError("--upstream-timeout takes whole seconds from 1 to 3600, not \"\(text)\"")
    }
    timeoutMilliseconds = seconds * 1000
}
let socket = parsed.value("-a")

let socketPath = SocketPath.resolve(explicit: socket)
// Without --upstream, the API of the provider whose tokens are forwarded (its `api_url`,
// from provider.get: --account's provider, else the default one); when no agent answers
// yet (systemd may start the endpoint first), or the provider names none, Anthropic's API.
let upstreamSource: String
if let upstreamText {
    upstreamSource = upstreamText
} else if let provider = try? AgentClient(socketPath: socketPath, timeoutMilliseconds: 2000).provider(named: nil, account: account),
          let api = provider.apiURL {
    upstreamSource = api
    log("forwarding to \(provider.name)'s api_url")
} else {
    upstreamSource = EndpointConfiguration.defaultUpstream
}
let upstreamURL: UpstreamURL
do throws(EndpointError) {
    upstreamURL = try UpstreamURL(upstreamSource)
} catch {
    if upstreamText == nil { program.fail(.badConfiguration, "the provider's api_url: \(error.message)") }
    program.usageError(error.message)
}
var configuration = EndpointConfiguration(socketPath: socketPath, upstream: upstreamURL)
if !listen.isEmpty { configuration.listen = listen }
configuration.account = account
configuration.upstreamTimeoutMilliseconds = timeoutMilliseconds
configuration.server.log = { log($0) }

let signals: SignalDescriptor
do throws(Errno) {
    try Endpoint.prepareProcess()
    signals = try SignalDescriptor([SIGTERM, SIGINT, SIGHUP])
} catch {
    program.fail(.startFailed, "cannot prepare the process: \(error)")
}
let upstream = URLSessionUpstream(maxConnectionsPerHost: configuration.server.maxConnections)
let endpoint: Endpoint
do throws(EndpointError) {
    endpoint = try Endpoint(configuration: configuration, upstream: upstream, audit: { log($0.line) })
} catch {
    error.isUsage ? program.usageError(error.message) : program.fail(.startFailed, error.message)
}
for url in endpoint.urls { log("listening on \(url), forwarding to \(upstreamURL)") }
do throws(EndpointError) {
    try endpoint.run(signals: signals)
} catch {
    program.fail(.startFailed, error.message)
}
log("stopped")
