import AgentPOSIX
import AgentProtocol
import Foundation
import Glibc

/// A control browser that accepts every `open-auth` and at once "approves" at the
/// provider: it follows the authorize URL's redirect itself, calling the bridge's
/// callback with a code and the authorization's state, as a browser would after the
/// person clicked Allow.
private func startControlBrowser(callbackPort: @escaping @Sendable () -> UInt16) throws -> HTTPPeer {
    try HTTPPeer { request in
        guard request.target.hasPrefix("/open-auth?"),
              let query = URLComponents(string: "http://x" + request.target)?.queryItems,
              let authorize = query.first(where: { $0.name == "auth_url" })?.value,
              let state = URLComponents(string: authorize)?.queryItems?.first(where: { $0.name == "state" })?.value
        else { return PeerAnswer(status: 400, body: #"{"error":"bad open-auth"}"#) }
        let port = callbackPort()
        let encoded = state.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? state
        return PeerAnswer(body: #"{"ok":true}"#, afterwards: {
            _ = try? httpRequest(port: port, "GET", "/oauth/callback?code=bench-code&state=\(encoded)")
        })
    }
}

/// 5. Approval overhead: a tool's request from creation to token, with a control browser
/// and token endpoint that answer at once, so what remains is the agent's and the
/// bridge's own time (plus the HTTP clients'). Each round uses a new account so every
/// one goes through the whole OAuth flow.
func measureApproval(_ settings: Settings, _ workspace: Workspace, report: Report) throws {
    report.section("5. Approval overhead: create → select → open-auth → callback → token")
    let endpoint = try startTokenEndpoint(delayMilliseconds: 0)
    let port = try freeLoopbackPort()
    let browser = try startControlBrowser { port }
    let config = try writeConfiguration(workspace, endpoint: endpoint, controlBrowser: browser.url)
    let agent = try workspace.startClaudeAgent(settings.binaries, name: "approval",
                                               arguments: ["--config", config, "--callback-url", "http://127.0.0.1:\(port)/oauth/callback"])
    defer { workspace.stop(agent.process) }
    let bridge = try workspace.start(settings.binaries.agent, ["bridge", "--listen", "127.0.0.1:\(port)", "-a", agent.socket],
                                     output: workspace.path("bridge.log"))
    defer { workspace.stop(bridge) }
    let secretPath = (agent.socket as NSString).deletingLastPathComponent + "/bridge.token"
    var secret = ""
    _ = pollUntil(every: BenchLimits.httpPollMilliseconds, atMost: BenchLimits.listenWaitMilliseconds) {
        if (try? httpRequest(port: port, "GET", "/healthz"))?.status == 200 {
            secret = ((try? String(contentsOfFile: secretPath, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return !secret.isEmpty
    }
    guard !secret.isEmpty else { throw BenchError("the bridge did not start; see \(workspace.path("bridge.log"))") }

    var totals: [Double] = []
    var overheads: [Double] = []
    for round in 0..<(settings.approvals + 2) {
        endpoint.reset()
        browser.reset()
        let began = nowNanoseconds()
        let created = try httpRequest(port: port, "POST", "/v1/token-requests",
                                      body: #"{"client_name":"bench","hostname":"bench","scopes":["user:inference"]}"#)
        guard created.status == 201, let id = try JSONValue.parse(created.body)["request_id"]?.stringValue else {
            throw BenchError("creating a request: HTTP \(created.status) \(created.body)")
        }
        // The tool waits on the socket, as the client library does.
        let waiter = try BlockingConnection.open(agent.socket)
        defer { waiter.close() }
        try waiter.writeAll(Exchange.frame(#"{"id":1,"op":"\#(Op.requestWait)","request_id":"\#(id)","timeout":\#(BenchLimits.approvalWaitSeconds)}"#))
        let selected = try httpRequest(port: port, "POST", "/v1/token-requests/\(id)/select-account",
                                       body: #"{"account_id":\#(round + 1)}"#, headers: ["Authorization: Bearer \(secret)"])
        guard selected.status == 200 else { throw BenchError("select-account: HTTP \(selected.status) \(selected.body)") }
        var buffer = [UInt8](repeating: 0, count: 8192)
        let length = try waiter.readMessage(into: &buffer)
        let ended = nowNanoseconds()
        let answer = try JSONValue.parse(Array(buffer[0..<length]))
        guard answer["result"]?["status"]?.stringValue == ApprovalStatus.approved.rawValue,
              answer["result"]?["token"]?["access_token"]?.stringValue?.hasPrefix("sk-ant-oat01-fresh-") == true else {
            throw BenchError("the request did not end approved with the new token: \(answer.jsonText)")
        }
        guard endpoint.requests == 1, browser.requests == 1 else {
            throw BenchError("round \(round): \(browser.requests) open-auth and \(endpoint.requests) token requests, not 1 and 1")
        }
        if round < 2 { continue }  // warm-up
        let total = Double(ended - began) / 1e6
        totals.append(total)
        overheads.append(total - endpoint.handlerMilliseconds - browser.handlerMilliseconds)
    }
    totals.sort()
    overheads.sort()
    let p50 = overheads[overheads.count / 2]
    report.table(["rounds", "total p50", "total max", "overhead p50", "overhead max"], [
        [String(totals.count), Format.ms(totals[totals.count / 2]), Format.ms(totals.last ?? 0), Format.ms(p50), Format.ms(overheads.last ?? 0)],
    ])
    report.note("overhead = total less the time the stand-in control browser and token endpoint spent answering")
    report.record("approval", .object([
        "rounds": .int(Int64(totals.count)), "total_p50_ms": .double(totals[totals.count / 2]),
        "overhead_p50_ms": .double(p50), "overhead_max_ms": .double(overheads.last ?? 0),
    ]))
    report.check("approval round trip overhead (p50)", target: "≤ 5 ms", measured: Format.ms(p50), met: p50 <= 5)
}

/// A loopback TCP port free now: the agent must know the bridge's port before it starts.
func freeLoopbackPort() throws -> UInt16 {
    guard let any = SocketAddress(parsing: "127.0.0.1:0") else { throw BenchError("no loopback address") }
    do throws(Errno) {
        let listener = try TCPSocket.listen(any)
        defer { listener.close() }
        return try TCPSocket.localAddress(of: listener).port
    } catch {
        throw BenchError("no free loopback port: \(error)")
    }
}
