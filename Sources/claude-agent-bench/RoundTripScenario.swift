import AgentProtocol
import Foundation

/// 2. Socket round trips: a cached `token.get` against ssh-agent's REQUEST_IDENTITIES,
/// both driven by the same client code, for 1, 16 and 64 concurrent clients, on kept
/// connections and on a new connection per request.
///
/// The two agents take turns, `repetitions` times per cell, and each side's median run
/// (by throughput) is kept: on a shared two-core machine a single run is at the mercy of
/// whatever else woke up.
func measureRoundTrips(_ settings: Settings, ours: RunningAgent, ssh: RunningAgent, report: Report) throws {
    report.section("2. Socket round trips: token.get vs ssh-agent REQUEST_IDENTITIES")
    // The answer must be a real token before any timing counts it.
    let calls = try AgentCalls(ours.socket)
    let answer = try calls.call(#"{"id":1,"op":"\#(Op.tokenGet)","scopes":["user:inference"]}"#)
    calls.close()
    guard answer["access_token"]?.stringValue?.isEmpty == false else { throw BenchError("token.get gave no token: \(answer)") }

    var rows: [[String]] = []
    var cells: [JSONValue] = []
    for persistent in [true, false] {
        for clients in settings.clientCounts {
            var runs: (ours: [LoadResult], ssh: [LoadResult]) = ([], [])
            for _ in 0..<settings.repetitions {
                runs.ours.append(try runLoad(socket: ours.socket, exchange: .claudeToken(), clients: clients,
                                             persistent: persistent, durationMilliseconds: settings.loadMilliseconds))
                runs.ssh.append(try runLoad(socket: ssh.socket, exchange: .sshIdentities, clients: clients,
                                            persistent: persistent, durationMilliseconds: settings.loadMilliseconds))
            }
            let mine = median(runs.ours)
            let theirs = median(runs.ssh)
            let errors = runs.ours.reduce(0) { $0 + $1.errors } + runs.ssh.reduce(0) { $0 + $1.errors }
            guard errors == 0 else { throw BenchError("\(errors) wrong answers with \(clients) clients") }
            let connection = persistent ? "kept" : "per request"
            let speedup = mine.throughput / theirs.throughput
            let tail = mine.p99 / mine.p50
            rows.append([connection, String(clients), Format.rate(mine.throughput), Format.us(mine.p50), Format.us(mine.p99),
                         Format.rate(theirs.throughput), Format.us(theirs.p50), Format.us(theirs.p99), Format.ratio(speedup)])
            cells.append(.object([
                "connection": .string(persistent ? "persistent" : "per_request"), "clients": .int(Int64(clients)),
                "claude_agent": summary(mine), "ssh_agent": summary(theirs), "throughput_ratio": .double(speedup),
            ]))
            let cell = "\(clients) client\(clients == 1 ? "" : "s"), connection \(connection)"
            report.check("round trips/s vs ssh-agent, \(cell)", target: "≥ 1.50×", measured: Format.ratio(speedup), met: speedup >= 1.5)
            report.check("p99 / p50, \(cell)", target: "≤ 3.00×", measured: Format.ratio(tail), met: tail <= 3)
        }
    }
    report.table(["connection", "clients", "ours/s", "p50", "p99", "ssh-agent/s", "p50", "p99", "ratio"], rows)
    report.note("\(settings.repetitions) turns each of \(Double(settings.loadMilliseconds) / 1000) s; the median turn by throughput is shown")
    report.record("round_trips", .array(cells))
}

private func median(_ results: [LoadResult]) -> LoadResult {
    results.sorted { $0.throughput < $1.throughput }[results.count / 2]
}

private func summary(_ result: LoadResult) -> JSONValue {
    .object(["round_trips": .int(Int64(result.operations)), "seconds": .double(result.seconds),
             "per_second": .double(result.throughput), "p50_us": .double(result.p50), "p99_us": .double(result.p99)])
}
