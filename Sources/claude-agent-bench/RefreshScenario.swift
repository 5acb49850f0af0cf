import AgentPOSIX
import AgentProtocol
import Foundation
import Glibc
import Synchronization

/// A token endpoint that counts its requests and answers each after `delayMilliseconds`,
/// with a new access token for any grant.
func startTokenEndpoint(delayMilliseconds: Int64) throws -> HTTPPeer {
    let issued = Mutex(0)
    return try HTTPPeer { request in
        if delayMilliseconds > 0 { Clock.sleep(milliseconds: delayMilliseconds) }
        guard request.method == "POST", request.body.contains("grant_type=") else {
            return PeerAnswer(status: 400, body: #"{"error":"invalid_request"}"#)
        }
        let n = issued.withLock { count in count += 1; return count }
        return PeerAnswer(body: #"{"access_token":"sk-ant-oat01-fresh-\#(n)","token_type":"Bearer","expires_in":28800,"refresh_token":"sk-ant-ort01-fresh-\#(n)","scope":"user:inference user:profile"}"#)
    }
}

/// An agent configuration whose one provider, `bench`, lives at `endpoint`.
func writeConfiguration(_ workspace: Workspace, endpoint: HTTPPeer, controlBrowser: String = "http://127.0.0.1:9") throws -> String {
    let path = workspace.path("config.json")
    let text = """
        {"default_provider": "bench", "control_browser_url": "\(controlBrowser)",
         "providers": {"bench": {"client_id": "claude-agent-bench", "authorize_url": "\(endpoint.url)/authorize",
           "token_url": "\(endpoint.url)/token", "scopes": ["user:inference", "user:profile"],
           "token_request_encoding": "form"}}}
        """
    guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { throw BenchError("cannot write \(path)") }
    return path
}

/// Scenario 3: how long the token endpoint takes to answer the one refresh: long enough
/// that every waiter has asked before it returns, so all of them must share it.
private let coalescingEndpointDelayMilliseconds: Int64 = 200

/// 3. Refresh coalescing: `clients` connections ask at once for a token that has expired,
/// while the token endpoint takes 200 ms (`coalescingEndpointDelayMilliseconds`) to answer. Exactly one refresh must reach it,
/// every client must get the new token, and the last must have it soon after the one
/// refresh returns.
func measureCoalescing(_ settings: Settings, _ workspace: Workspace, report: Report) throws {
    report.section("3. Refresh coalescing: \(settings.coalescingClients) clients, one expired token, a \(coalescingEndpointDelayMilliseconds) ms token endpoint")
    let endpoint = try startTokenEndpoint(delayMilliseconds: coalescingEndpointDelayMilliseconds)
    let config = try writeConfiguration(workspace, endpoint: endpoint)
    let agent = try workspace.startClaudeAgent(settings.binaries, name: "coalescing", arguments: ["--config", config])
    defer { workspace.stop(agent.process) }
    // Expires in a second: inside the refresh skew, so the next token.get must refresh.
    try AgentCalls(agent.socket).call(
        #"{"id":1,"op":"\#(Op.accountAdd)","account":"expiring","access_token":"sk-ant-oat01-stale","refresh_token":"sk-ant-ort01-old","expires_in":1,"scope":"user:inference user:profile","provider":"bench"}"#)

    var connections: [BlockingConnection] = []
    defer { connections.forEach { $0.close() } }
    for _ in 0..<settings.coalescingClients { connections.append(try BlockingConnection.open(agent.socket)) }
    let request = Exchange.frame(#"{"id":1,"op":"\#(Op.tokenGet)","scopes":["user:inference"]}"#)

    let began = Clock.monotonicNanoseconds()
    for connection in connections { try connection.writeAll(request) }
    let sent = Clock.monotonicNanoseconds()
    var buffer = [UInt8](repeating: 0, count: 4096)
    var tokens: [String: Int] = [:]
    var failures: [String] = []
    for connection in connections {
        let length = try connection.readMessage(into: &buffer)
        let answer = try JSONValue.parse(Array(buffer[0..<length]))
        if let token = answer["result"]?["access_token"]?.stringValue {
            tokens[token, default: 0] += 1
        } else {
            failures.append(answer.jsonText)
        }
    }
    let last = Double(Clock.monotonicNanoseconds() - began) / 1e6
    let sending = Double(sent - began) / 1e6
    let refreshes = endpoint.requests
    let answered = tokens.values.reduce(0, +)
    let freshOnly = tokens.keys.allSatisfy { $0.hasPrefix("sk-ant-oat01-fresh-") }
    let ratio = last / Double(coalescingEndpointDelayMilliseconds)

    report.table(["clients", "answered", "refresh requests", "distinct tokens", "last answer", "sending took"], [
        [String(settings.coalescingClients), String(answered), String(refreshes), String(tokens.count), Format.ms(last), Format.ms(sending)],
    ])
    if !failures.isEmpty { report.note("failures, first: \(failures[0])") }
    report.record("coalescing", .object([
        "clients": .int(Int64(settings.coalescingClients)), "endpoint_delay_ms": .int(coalescingEndpointDelayMilliseconds),
        "answered": .int(Int64(answered)), "failed": .int(Int64(failures.count)),
        "refresh_requests": .int(Int64(refreshes)), "distinct_tokens": .int(Int64(tokens.count)),
        "last_answer_ms": .double(last), "sending_ms": .double(sending),
    ]))
    report.check("refresh requests for \(settings.coalescingClients) waiters", target: "exactly 1", measured: String(refreshes), met: refreshes == 1, essential: true)
    report.check("waiters answered with the new token", target: "all \(settings.coalescingClients)",
                 measured: String(freshOnly ? answered : 0), met: answered == settings.coalescingClients && freshOnly && tokens.count == 1, essential: true)
    report.check("last answer vs endpoint delay", target: "≤ 1.20×", measured: Format.ratio(ratio), met: ratio <= 1.2)
}
