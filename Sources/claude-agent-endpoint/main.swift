// claude-agent-endpoint: the local Anthropic API endpoint (`claude-agent endpoint`).
//
// A separate program because HTTPS needs FoundationNetworking (libcurl and a TLS
// library), which the static CLI and the agent do not link. It holds tokens only in
// memory, gets them from the agent's socket, and logs one audit line per request on
// standard error (the journal under systemd), never a token or a body.
import AgentPOSIX
import AgentProtocol
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

var listen: [SocketAddress] = []
var account: AccountReference?
var upstreamText = EndpointConfiguration.defaultUpstream
var timeoutMilliseconds = EndpointConfiguration.defaultUpstreamTimeoutMilliseconds
var socket: String?

var arguments = CommandLine.arguments.dropFirst()[...]
// Swift 6 isolates main.swift's top-level variables to the main actor, on which its
// top-level code runs; this helper runs there too.
@MainActor
func value(for option: String) -> String {
    guard let next = arguments.popFirst() else { usageError("\(option) needs a value") }
    return next
}
while let argument = arguments.popFirst() {
    switch argument {
    case "-h", "--help":
        print(usage, terminator: "")
        ProcessControl.exit(0)
    case "-V", "--version":
        print("claude-agent-endpoint \(agentVersion)")
        ProcessControl.exit(0)
    case "--listen":
        do throws(BridgeError) {
            listen.append(try BridgeConfiguration.listenAddress(value(for: argument)))
        } catch {
            usageError(error.message)
        }
    case "--account":
        let text = value(for: argument)
        guard let reference = AccountReference(.string(text)) else { usageError("--account \(text) is not an account name or id") }
        account = reference
    case "--upstream":
        upstreamText = value(for: argument)
    case "--upstream-timeout":
        let text = value(for: argument)
        guard let seconds = Int64(text), EndpointConfiguration.upstreamTimeoutSecondsRange.contains(seconds) else {
            usageError("--upstream-timeout takes whole seconds from 1 to 3600, not \"\(text)\"")
        }
        timeoutMilliseconds = seconds * 1000
    case "-a", "--socket":
        socket = value(for: argument)
    case _ where argument.hasPrefix("--socket="):
        socket = String(argument.dropFirst("--socket=".count))
    default:
        usageError(argument.hasPrefix("-") ? "unknown option \(argument)" : "unexpected argument \"\(argument)\"")
    }
}

let upstreamURL: UpstreamURL
do throws(EndpointError) {
    upstreamURL = try UpstreamURL(upstreamText)
} catch {
    usageError(error.message)
}
var configuration = EndpointConfiguration(socketPath: SocketPath.resolve(explicit: socket), upstream: upstreamURL)
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
