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

func fail(_ message: String, _ status: Int32) -> Never {
    try? FileDescriptor.standardError.writeAll(Array("claude-agent endpoint: \(message)\n".utf8))
    if status == 2 { try? FileDescriptor.standardError.writeAll(Array("Try 'claude-agent endpoint --help'.\n".utf8)) }
    ProcessControl.exit(status)
}

func log(_ message: String) {
    try? FileDescriptor.standardError.writeAll(Array("claude-agent endpoint[\(ProcessControl.currentPID)]: \(message)\n".utf8))
}

var listen: [SocketAddress] = []
var account: AccountReference?
var upstreamText = EndpointConfiguration.defaultUpstream
var timeoutMilliseconds = EndpointConfiguration.defaultUpstreamTimeoutMilliseconds
var socket = ProcessControl.environment("CLAUDE_AGENT_SOCK") ?? SocketPath.defaultPath()

var arguments = CommandLine.arguments.dropFirst()[...]
func value(for option: String) -> String {
    guard let next = arguments.popFirst() else { fail("\(option) needs a value", 2) }
    return next
}
while let argument = arguments.popFirst() {
    switch argument {
    case "-h", "--help":
        print(usage, terminator: "")
        ProcessControl.exit(0)
    case "--version":
        print("claude-agent-endpoint \(agentVersion)")
        ProcessControl.exit(0)
    case "--listen":
        do throws(BridgeError) {
            listen.append(try BridgeConfiguration.listenAddress(value(for: argument)))
        } catch {
            fail(error.message, 2)
        }
    case "--account":
        let text = value(for: argument)
        guard let reference = AccountReference(.string(text)) else { fail("--account \(text) is not an account name or id", 2) }
        account = reference
    case "--upstream":
        upstreamText = value(for: argument)
    case "--upstream-timeout":
        let text = value(for: argument)
        guard let seconds = Int64(text), EndpointConfiguration.upstreamTimeoutSecondsRange.contains(seconds) else {
            fail("--upstream-timeout takes whole seconds from 1 to 3600, not \"\(text)\"", 2)
        }
        timeoutMilliseconds = seconds * 1000
    case "-a", "--socket":
        socket = value(for: argument)
    default:
        fail("unknown argument \"\(argument)\"", 2)
    }
}

let upstreamURL: UpstreamURL
do throws(EndpointError) {
    upstreamURL = try UpstreamURL(upstreamText)
} catch {
    fail(error.message, 2)
}
var configuration = EndpointConfiguration(socketPath: socket, upstream: upstreamURL)
if !listen.isEmpty { configuration.listen = listen }
configuration.account = account
configuration.upstreamTimeoutMilliseconds = timeoutMilliseconds
configuration.server.log = { log($0) }

let signals: SignalDescriptor
do throws(Errno) {
    try Endpoint.prepareProcess()
    signals = try SignalDescriptor([SIGTERM, SIGINT, SIGHUP])
} catch {
    fail("cannot prepare the process: \(error)", 1)
}
let upstream = URLSessionUpstream(maxConnectionsPerHost: configuration.server.maxConnections)
let endpoint: Endpoint
do throws(EndpointError) {
    endpoint = try Endpoint(configuration: configuration, upstream: upstream, audit: { log($0.line) })
} catch {
    fail(error.message, error.isUsage ? 2 : 1)
}
for url in endpoint.urls { log("listening on \(url), forwarding to \(upstreamURL)") }
do throws(EndpointError) {
    try endpoint.run(signals: signals)
} catch {
    fail(error.message, 1)
}
log("stopped")
