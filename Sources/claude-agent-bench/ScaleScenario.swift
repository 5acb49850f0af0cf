import AgentPOSIX
import AgentProtocol
import Foundation
import Glibc

/// Latency of one request repeated on a kept connection: p50 and p99 in µs.
private func latency(_ socket: String, _ payloads: [String], count: Int) throws -> (p50: Double, p99: Double) {
    let connection = try BlockingConnection.open(socket)
    defer { connection.close() }
    let frames = payloads.map(Exchange.frame)
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var samples: [UInt64] = []
    samples.reserveCapacity(count)
    for index in 0..<(count + count / 10) {
        let began = Clock.monotonicNanoseconds()
        try connection.writeAll(frames[index % frames.count])
        let length = try connection.readMessage(into: &buffer)
        let elapsed = Clock.monotonicNanoseconds() - began
        guard buffer[0..<length].starts(with: Array(#"{"id":1,"ok":true"#.utf8)) else {
            throw BenchError("\(payloads[index % payloads.count].prefix(80)) failed: \(String(decoding: buffer[0..<min(length, 300)], as: UTF8.self))")
        }
        if index >= count / 10 { samples.append(elapsed) }  // the first tenth warms up
    }
    samples.sort()
    return (Double(samples[samples.count / 2]) / 1000, Double(samples[samples.count * 99 / 100]) / 1000)
}

/// 4. Scale: `token.get` as the agent holds more accounts, `request.get` and `request.list`
/// as it holds more live requests, and the agent's memory idle and full.
func measureScale(_ settings: Settings, _ workspace: Workspace, report: Report) throws {
    report.section("4. Scale: accounts and live requests held")
    var rows: [[String]] = []
    var points: [JSONValue] = []
    var byName: [Int: Double] = [:]
    var idle: Memory?
    var full: [Int: Memory] = [:]
    for accounts in settings.accountCounts {
        let agent = try workspace.startClaudeAgent(settings.binaries, name: "scale\(accounts)")
        defer { workspace.stop(agent.process) }
        Clock.sleep(milliseconds: BenchLimits.idleSettleMilliseconds)
        let empty = try Memory(pid: agent.pid)
        if idle == nil { idle = empty }
        let calls = try AgentCalls(agent.socket)
        defer { calls.close() }
        _ = try calls.pipeline((1...accounts).map { addAccountPayload("account\($0)", token: fakeToken($0)) })
        let held = try Memory(pid: agent.pid)
        full[accounts] = held
        // Names spread over the whole table, in an order that defeats any cache.
        var generator = SystemRandomNumberGenerator()
        let named = (0..<256).map { _ in #"{"id":1,"op":"\#(Op.tokenGet)","account":"account\#(Int.random(in: 1...accounts, using: &generator))","scopes":["user:inference"]}"# }
        let byAccount = try latency(agent.socket, named, count: settings.samples)
        let any = try latency(agent.socket, [#"{"id":1,"op":"\#(Op.tokenGet)","scopes":["user:inference"]}"#], count: settings.samples)
        byName[accounts] = byAccount.p50
        rows.append([String(accounts), Format.us(byAccount.p50), Format.us(byAccount.p99), Format.us(any.p50), Format.us(any.p99),
                     Format.mib(empty.resident), Format.mib(held.resident), Format.mib(held.own)])
        points.append(.object([
            "accounts": .int(Int64(accounts)),
            "token_get_by_name": .object(["p50_us": .double(byAccount.p50), "p99_us": .double(byAccount.p99)]),
            "token_get_any": .object(["p50_us": .double(any.p50), "p99_us": .double(any.p99)]),
            "rss_idle_kib": .int(Int64(empty.resident)), "rss_kib": .int(Int64(held.resident)), "own_kib": .int(Int64(held.own)),
        ]))
    }
    report.table(["accounts", "by name p50", "p99", "any p50", "p99", "RSS empty", "RSS full", "own full"], rows)

    let requestRows = try measureRequests(settings, workspace)
    report.table(["live requests", "request.get p50", "p99", "request.list p50", "p99", "per listed"], requestRows.rows)
    report.record("scale", .object(["accounts": .array(points), "requests": .array(requestRows.json)]))

    if let idle {
        report.check("agent RSS idle", target: "≤ 16 MiB", measured: Format.mib(idle.resident), met: idle.resident <= 16 * 1024)
    }
    if let most = settings.accountCounts.max(), let held = full[most] {
        let limit = most >= 10_000 ? 64 : 16
        report.check("agent RSS with \(most) accounts", target: "≤ \(limit) MiB", measured: Format.mib(held.resident), met: held.resident <= limit * 1024)
    }
    if let least = settings.accountCounts.min(), let most = settings.accountCounts.max(), let low = byName[least], let high = byName[most] {
        let growth = high / low
        report.check("token.get p50, \(most) vs \(least) accounts", target: "flat: ≤ 1.50×", measured: Format.ratio(growth), met: growth <= 1.5)
    }
    let get = requestRows.getP50
    if let low = get.first, let high = get.last {
        let growth = high / low
        report.check("request.get p50, \(settings.requestCounts.last ?? 0) vs \(settings.requestCounts.first ?? 0) live", target: "flat: ≤ 1.50×",
                     measured: Format.ratio(growth), met: growth <= 1.5)
    }
    if let perItem = requestRows.perListed.last, let first = requestRows.perListed.first {
        let growth = perItem / first
        report.check("request.list cost per listed request, \(settings.requestCounts.last ?? 0) vs \(settings.requestCounts.first ?? 0) live",
                     target: "linear: ≤ 1.50×", measured: Format.ratio(growth), met: growth <= 1.5)
    }
}

/// Live requests come from many callers, as they would from many tools: a caller may
/// have only 16 waiting. The callers are `sleep` processes of this user, named in
/// `caller_pid`, which the agent accepts from a process of the same user (as from the
/// HTTP bridge).
private func measureRequests(_ settings: Settings, _ workspace: Workspace)
    throws -> (rows: [[String]], json: [JSONValue], getP50: [Double], perListed: [Double]) {
    var rows: [[String]] = []
    var json: [JSONValue] = []
    var getP50: [Double] = []
    var perListed: [Double] = []
    let sleep = try Binaries.require("sleep", package: "coreutils")
    for live in settings.requestCounts {
        let agent = try workspace.startClaudeAgent(settings.binaries, name: "requests\(live)")
        defer { workspace.stop(agent.process) }
        let callers = try (0..<((live + 15) / 16)).map { _ in try workspace.start(sleep, [String(BenchLimits.callerLifetimeSeconds)]) }
        defer { callers.forEach(workspace.stop) }
        let calls = try AgentCalls(agent.socket)
        defer { calls.close() }
        let created = try calls.pipeline((0..<live).map { index in
            #"{"id":1,"op":"\#(Op.requestCreate)","client_name":"bench","hostname":"bench","scopes":["user:inference"],"caller_pid":\#(callers[index / 16].processIdentifier)}"#
        })
        let ids = created.compactMap { $0["request_id"]?.stringValue }
        guard ids.count == live else { throw BenchError("request.create gave \(ids.count) ids for \(live) requests") }
        let gets = (0..<256).map { _ in #"{"id":1,"op":"\#(Op.requestGet)","request_id":"\#(ids.randomElement() ?? "")"}"# }
        let get = try latency(agent.socket, gets, count: settings.samples)
        let list = try latency(agent.socket, [#"{"id":1,"op":"\#(Op.requestList)"}"#], count: max(20, settings.samples / 10))
        // request.list answers a page (Protocol.md, "Paging"): a call lists all the live
        // requests or a full page with a cursor to the rest, so its cost is per entry listed.
        let page = try calls.call(#"{"id":1,"op":"\#(Op.requestList)"}"#)
        let listed = page["requests"]?.arrayValue?.count ?? 0
        guard listed == live || (listed > 0 && page["next_cursor"]?.stringValue != nil) else {
            throw BenchError("request.list listed \(listed) of \(live) live requests, with no cursor to the rest")
        }
        getP50.append(get.p50)
        perListed.append(list.p50 / Double(listed))
        rows.append([String(live), Format.us(get.p50), Format.us(get.p99), Format.us(list.p50), Format.us(list.p99), Format.us(list.p50 / Double(listed))])
        json.append(.object([
            "live_requests": .int(Int64(live)),
            "request_get": .object(["p50_us": .double(get.p50), "p99_us": .double(get.p99)]),
            "request_list": .object(["p50_us": .double(list.p50), "p99_us": .double(list.p99)]),
        ]))
    }
    return (rows, json, getP50, perListed)
}
