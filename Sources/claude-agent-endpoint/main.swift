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

let usage = EndpointHelp.text + "\n"

/// A failure as every claude-agent command reports one: `claude-agent: <code>: <message>`
/// on one line, and the exit status the code maps to.
func fail(_ code: ErrorCode, _ message: String) -> Never {
    try? FileDescriptor.standardError.writeAll(Array("claude-agent: \(code.rawValue): \(message)\n".utf8))
    ProcessControl.exit(ExitCode(code).rawValue)
}

/// A usage error, pointing at the help, as the CLI's are.
func usageError(_ message: String) -> Never {
    fail(.usage, "\(message) (see 'claude-agent endpoint --help')")
}

func log(_ message: String) {
    try? FileDescriptor.standardError.writeAll(Array("claude-agent endpoint[\(ProcessControl.currentPID)]: \(message)\n".utf8))
}

/// The endpoint's options, declared once for the shared parser (EndpointHelp describes them).
let options: [Option] = [
    Option("--listen", value: "ADDRESS:PORT", help: []),
    Option("--account", value: "A", help: []),
    Option("--upstream", value: "URL", help: []),
    Option("--upstream-timeout", value: "SECONDS", help: []),
    Option("-a", aliases: ["--socket"], value: "SOCKET", help: []),
    Option("-h", aliases: ["--help"], help: []),
    Option("-V", aliases: ["--version"], help: []),
]
let parsed: Arguments
do throws(Arguments.UsageError) {
    parsed = try Arguments(Array(CommandLine.arguments.dropFirst()), spec: CommandSpec(options))
} catch {
    usageError(error.message)
}
if parsed.has("-h") {
    print(usage, terminator: "")
    ProcessControl.exit(0)
}
if parsed.has("-V") {
    print("claude-agent-endpoint \(agentVersion)")
    ProcessControl.exit(0)
}
var listen: [SocketAddress] = []
for text in parsed.all("--listen") {
    do throws(BridgeError) {
        listen.append(try BridgeConfiguration.listenAddress(text))
    } catch {
        usageError(error.message)
    }
}
var account: AccountReference?
if let text = parsed.value("--account") {
    guard let reference = AccountReference(.string(text)) else { usageError("--account \(text) is not an account name or id") }
    account = reference
}
let upstreamText = parsed.value("--upstream")
var timeoutMilliseconds = EndpointConfiguration.defaultUpstreamTimeoutMilliseconds
if let text = parsed.value("--upstream-timeout") {
    guard let seconds = Int64(text), EndpointConfiguration.upstreamTimeoutSecondsRange.contains(seconds) else {
        usageError("--upstream-timeout takes whole seconds from 1 to 3600, not \"\(text)\"")
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
    if upstreamText == nil { fail(.badConfiguration, "the provider's api_url: \(error.message)") }
    usageError(error.message)
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
    fail(.startFailed, "cannot prepare the process: \(error)")
}
let upstream = URLSessionUpstream(maxConnectionsPerHost: configuration.server.maxConnections)
let endpoint: Endpoint
do throws(EndpointError) {
    endpoint = try Endpoint(configuration: configuration, upstream: upstream, audit: { log($0.line) })
} catch {
    error.isUsage ? usageError(error.message) : fail(.startFailed, error.message)
}
for url in endpoint.urls { log("listening on \(url), forwarding to \(upstreamURL)") }
do throws(EndpointError) {
    try endpoint.run(signals: signals)
} catch {
    fail(.startFailed, error.message)
}
log("stopped")
