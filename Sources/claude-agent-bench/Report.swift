import AgentProtocol
import Foundation

/// One target of the benchmark issue, and whether this run met it.
struct Verdict {
    let name: String
    let target: String
    let measured: String
    let met: Bool
    /// A check of behaviour (one refresh, every client answered), not of speed: failing it
    /// fails the run, in the quick mode too.
    let essential: Bool
}

/// What a run prints and writes: tables as it goes, the JSON at the end.
final class Report {
    private(set) var verdicts: [Verdict] = []
    private(set) var json: [(String, JSONValue)] = []

    func section(_ title: String) {
        print("\n## \(title)")
    }

    /// Prints rows as a table whose columns are as wide as their widest cell.
    func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == 0 ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                           : String(repeating: " ", count: widths[index] - cell.count) + cell
            }.joined(separator: "  ")
        }
        print(line(header))
        print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        rows.forEach { print(line($0)) }
    }

    func note(_ text: String) { print(text) }

    func record(_ key: String, _ value: JSONValue) { json.append((key, value)) }

    func check(_ name: String, target: String, measured: String, met: Bool, essential: Bool = false) {
        verdicts.append(Verdict(name: name, target: target, measured: measured, met: met, essential: essential))
    }

    /// Behaviour checks that failed.
    var brokenChecks: [Verdict] { verdicts.filter { $0.essential && !$0.met } }

    /// The full run's verdict on every target; a quick run is a smoke run (a debug build
    /// on whatever machine runs the tests), which judges only the behaviour checks and
    /// says so, rather than printing speed verdicts it does not stand behind.
    func printVerdicts(quick: Bool) {
        if quick {
            section("Checks (a smoke run: it checks that the benchmark works and the agent behaves under its load; "
                    + "speed is judged only by the full run, scripts/bench, in release mode)")
            table(["check", "wanted", "measured", ""], verdicts.filter(\.essential).map {
                [$0.name, $0.target, $0.measured, $0.met ? "passed" : "BROKEN"]
            })
            return
        }
        section("Targets")
        table(["target", "wanted", "measured", ""], verdicts.map {
            [$0.name, $0.target, $0.measured, $0.met ? "met" : $0.essential ? "BROKEN" : "MISSED"]
        })
    }

    func write(to path: String, machine: JSONObject, mode: String) throws {
        var root = JSONObject([("tool", .string("claude-agent-bench")), ("version", .string(agentVersion)),
                               ("mode", .string(mode)), ("date", .string(RFC3339.format(Int64(Date().timeIntervalSince1970)))),
                               ("machine", .object(machine))])
        for (key, value) in json { root[key] = value }
        // A smoke run's speed numbers are recorded above, but only its checks are judged.
        let judged = mode == "quick" ? verdicts.filter(\.essential) : verdicts
        root[mode == "quick" ? "checks" : "targets"] = .array(judged.map {
            .object(["name": .string($0.name), "target": .string($0.target), "measured": .string($0.measured), "met": .bool($0.met)])
        })
        let text = JSONValue.object(root).serialized(pretty: true) + [10]
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data(text)) else {
            throw BenchError("cannot write \(path)")
        }
    }
}

/// Formatting shared by the tables.
enum Format {
    static func ms(_ value: Double) -> String { String(format: "%.2f ms", value) }
    static func us(_ value: Double) -> String { String(format: "%.1f µs", value) }
    static func ratio(_ value: Double) -> String { String(format: "%.2f×", value) }
    static func rate(_ value: Double) -> String { String(format: "%.0f/s", value) }
    static func mib(_ kib: Int) -> String { String(format: "%.1f MiB", Double(kib) / 1024) }
}

/// The machine a run was taken on, for BENCHMARKS.md.
func describeMachine() -> JSONObject {
    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
    let cpu = read("/proc/cpuinfo").split(separator: "\n").first { $0.hasPrefix("model name") }
        .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
    let memory = read("/proc/meminfo").split(separator: "\n").first { $0.hasPrefix("MemTotal") }
        .map { String($0.dropFirst(9)).trimmingCharacters(in: .whitespaces) } ?? "unknown"
    var name = utsname()
    uname(&name)
    let kernel = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    return ["cpu": .string(cpu), "cpus": .int(Int64(ProcessInfo.processInfo.activeProcessorCount)),
            "memory": .string(memory), "kernel": .string(kernel)]
}
