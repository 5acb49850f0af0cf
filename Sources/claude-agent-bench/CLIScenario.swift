import AgentPOSIX
import AgentProtocol
import Foundation

/// 1. `claude-agent token` as a whole process, as `$(claude-agent token)` runs it, against
/// `ssh-add -l` asking ssh-agent for its one key: hyperfine times both in the same run.
func measureCLI(_ settings: Settings, _ workspace: Workspace, ours: RunningAgent, ssh: RunningAgent, report: Report) throws {
    report.section("1. CLI wall time: claude-agent token vs ssh-add -l")
    let sshAdd = try Binaries.require("ssh-add", package: "openssh-client")
    let token = [settings.binaries.agent, "token", "-a", ours.socket]
    let list = [sshAdd, "-l"]
    let environment = ["SSH_AUTH_SOCK": ssh.socket]

    let timings: [(median: Double, mean: Double, min: Double, runs: Int)]
    var timer = "hyperfine"
    if let hyperfine = Binaries.onPath("hyperfine") {
        let output = workspace.path("hyperfine.json")
        try workspace.run(hyperfine, ["-N", "--warmup", String(settings.warmup), "--runs", String(settings.runs),
                                      "--export-json", output,
                                      "--command-name", "claude-agent token", token.joined(separator: " "),
                                      "--command-name", "ssh-add -l", list.joined(separator: " ")],
                          environment: environment)
        let parsed = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: output))))
        timings = try (parsed["results"]?.arrayValue ?? []).map { result in
            guard let median = result["median"]?.doubleValue, let mean = result["mean"]?.doubleValue,
                  let min = result["min"]?.doubleValue else { throw BenchError("hyperfine's JSON lacks median, mean or min") }
            return (median * 1000, mean * 1000, min * 1000, result["times"]?.arrayValue?.count ?? 0)
        }
        guard timings.count == 2 else { throw BenchError("hyperfine measured \(timings.count) commands, not 2") }
    } else {
        // Only for the smoke run on a machine without hyperfine: the numbers are still
        // wall times of whole processes, from a plain spawn-and-wait loop.
        timer = "the bench's own loop (hyperfine is not installed)"
        timings = try [token, list].map { command in
            let times = try (0..<(settings.warmup + settings.runs)).map { _ in try wallTime(command, environment: environment) }
                .dropFirst(settings.warmup).sorted()
            return (times[times.count / 2], times.reduce(0, +) / Double(times.count), times[0], times.count)
        }
    }
    let ourPeak = try peakResident(token, environment: environment)
    let sshPeak = try peakResident(list, environment: environment)
    let ratio = timings[0].median / timings[1].median

    report.table(["command", "median", "mean", "min", "runs", "peak RSS"], [
        ["claude-agent token", Format.ms(timings[0].median), Format.ms(timings[0].mean), Format.ms(timings[0].min), String(timings[0].runs), Format.mib(ourPeak)],
        ["ssh-add -l", Format.ms(timings[1].median), Format.ms(timings[1].mean), Format.ms(timings[1].min), String(timings[1].runs), Format.mib(sshPeak)],
    ])
    report.note("timed by \(timer); claude-agent token / ssh-add -l = \(Format.ratio(ratio))")
    report.record("cli", .object([
        "timer": .string(timer),
        "claude_agent_token": .object(["median_ms": .double(timings[0].median), "mean_ms": .double(timings[0].mean),
                                       "min_ms": .double(timings[0].min), "runs": .int(Int64(timings[0].runs)),
                                       "peak_rss_kib": .int(Int64(ourPeak))]),
        "ssh_add_l": .object(["median_ms": .double(timings[1].median), "mean_ms": .double(timings[1].mean),
                              "min_ms": .double(timings[1].min), "runs": .int(Int64(timings[1].runs)),
                              "peak_rss_kib": .int(Int64(sshPeak))]),
        "ratio": .double(ratio),
    ]))
    report.check("CLI median vs ssh-add -l", target: "≤ 0.50×", measured: Format.ratio(ratio), met: ratio <= 0.5)
    report.check("CLI peak RSS", target: "≤ 8 MiB", measured: Format.mib(ourPeak), met: ourPeak <= 8 * 1024)
}

/// Milliseconds from spawn to exit of one run of `command`, its output discarded.
/// The environment is built before the clock starts, so only the process is timed.
private func wallTime(_ command: [String], environment: [String: String]) throws -> Double {
    let childEnvironment = childEnvironment(environment)
    let arguments = Array(command.dropFirst())
    let began = Clock.monotonicNanoseconds()
    let status: ExitStatus?
    do throws(Errno) {
        let pid = try ProcessControl.spawn(command[0], arguments: arguments, environment: childEnvironment, standardOutput: nil)
        status = try ProcessControl.exitStatus(of: pid, waiting: true)
    } catch {
        throw BenchError("cannot run \(command[0]): \(error)")
    }
    let ended = Clock.monotonicNanoseconds()
    guard status == .exited(0) else { throw BenchError("\(command.joined(separator: " ")) failed (\(status.map(String.init(describing:)) ?? "no status"))") }
    return Double(ended - began) / 1e6
}
