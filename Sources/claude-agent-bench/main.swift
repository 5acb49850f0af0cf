import AgentPOSIX
import Foundation
import Glibc

/// How much to measure: the full run for BENCHMARKS.md, or a quick one that only shows
/// the benchmark still works (CI).
struct Settings {
    var binaries = Binaries(directory: ".build/release")
    var quick = false
    var jsonPath: String?
    var only: Set<String> = []

    var warmup: Int { quick ? 3 : 20 }
    var runs: Int { quick ? 10 : 300 }
    var clientCounts: [Int] { quick ? [1, 16] : [1, 16, 64] }
    var repetitions: Int { quick ? 1 : 3 }
    /// How long each turn of scenario 2's load runs.
    var loadMilliseconds: Int64 { quick ? 200 : 2_000 }
    var coalescingClients: Int { 1000 }
    var accountCounts: [Int] { quick ? [10, 1000] : [10, 1000, 10_000] }
    var requestCounts: [Int] { quick ? [10, 100] : [10, 100, 1000] }
    var samples: Int { quick ? 500 : 5000 }
    var approvals: Int { quick ? 3 : 50 }
}

let usage = """
    usage: claude-agent-bench [--quick] [--bin DIR] [--json FILE] [--only cli,roundtrips,coalescing,scale,approval,endpoint]
           claude-agent-bench load claude|ssh SOCKET CLIENTS kept|new SECONDS

    Measures claude-agent against ssh-agent on this machine, and claude-agent endpoint
    against a direct call to the same local upstream, and prints each target of the
    benchmark with its verdict. Starts its own agents in a temporary directory.

      --bin DIR    where claude-agent, claude-agentd and claude-agent-endpoint are
                   (default .build/release)
      --json FILE  also write the results as JSON
      --quick      a smoke run: checks that the benchmark works and the agent behaves,
                   judging no speed target
      --only LIST  run only these scenarios

    `load` drives one running agent with the round-trip load of scenario 2 for SECONDS
    (0.001 to \(BenchLimits.maxLoadMilliseconds / 1000)) and prints what it measured: for profiling the agent (perf,
    strace -c, callgrind) under load.

    Needs ssh-agent, ssh-add and ssh-keygen (Debian: openssh-client) and hyperfine.
    Exit status: 0 when the run completed (missed speed and memory targets are reported,
    not fatal), 1 when it could not measure or the agent misbehaved (more than one
    refresh for many waiters, a client left without its token), 2 on bad usage.
    """

func parseArguments() -> Settings {
    var settings = Settings()
    var arguments = CommandLine.arguments.dropFirst()
    func value(_ flag: String) -> String {
        guard let next = arguments.popFirst() else {
            FileHandle.standardError.write(Data("claude-agent-bench: \(flag) needs a value\n\(usage)\n".utf8))
            exit(2)
        }
        return next
    }
    while let argument = arguments.popFirst() {
        switch argument {
        case "--quick": settings.quick = true
        case "--bin": settings.binaries = Binaries(directory: value(argument))
        case "--json": settings.jsonPath = value(argument)
        case "--only": settings.only = Set(value(argument).split(separator: ",").map(String.init))
        case "-h", "--help": print(usage); exit(0)
        default:
            FileHandle.standardError.write(Data("claude-agent-bench: unknown argument \(argument)\n\(usage)\n".utf8))
            exit(2)
        }
    }
    return settings
}

/// A thousand concurrent clients need a thousand descriptors on this side too: as many
/// as the hard limit allows.
func raiseDescriptorLimit() {
    ProcessControl.raiseOpenFileLimit(to: Int.max)
}

/// `load`: scenario 2's load against an agent someone else started.
func runLoadCommand(_ arguments: [String]) -> Int32 {
    // SECONDS may be a fraction (0.5); checked against the run's range before it is
    // turned into whole milliseconds, so the conversion cannot trap.
    let maxLoadSeconds = Double(BenchLimits.maxLoadMilliseconds) / 1000
    guard arguments.count == 5, ["claude", "ssh"].contains(arguments[0]), let clients = Int(arguments[2]), clients > 0,
          ["kept", "new"].contains(arguments[3]), let seconds = Double(arguments[4]), seconds >= 0.001, seconds <= maxLoadSeconds else {
        FileHandle.standardError.write(Data("\(usage)\n".utf8))
        return 2
    }
    do {
        let result = try runLoad(socket: arguments[1], exchange: arguments[0] == "ssh" ? .sshIdentities : .claudeToken(),
                                 clients: clients, persistent: arguments[3] == "kept",
                                 durationMilliseconds: Int64((seconds * 1000).rounded()))
        print("\(result.operations) round trips in \(String(format: "%.2f", result.seconds)) s: \(Format.rate(result.throughput)), p50 \(Format.us(result.p50)), p99 \(Format.us(result.p99)), \(result.errors) wrong answers")
        return result.errors == 0 ? 0 : 1
    } catch {
        FileHandle.standardError.write(Data("claude-agent-bench: \(error)\n".utf8))
        return 1
    }
}

func main() -> Int32 {
    if CommandLine.arguments.dropFirst().first == "load" {
        raiseDescriptorLimit()
        Signals.ignoreBrokenPipe()
        return runLoadCommand(Array(CommandLine.arguments.dropFirst(2)))
    }
    let settings = parseArguments()
    Signals.ignoreBrokenPipe()
    raiseDescriptorLimit()
    for binary in [settings.binaries.agent, settings.binaries.daemon] where !FileSystem.isExecutable(binary) {
        FileHandle.standardError.write(Data("claude-agent-bench: \(binary) not found; run swift build -c release first\n".utf8))
        return 1
    }
    do throws(Errno) {
        try ProcessControl.becomeChildSubreaper()
    } catch {
        FileHandle.standardError.write(Data("claude-agent-bench: \(error)\n".utf8))
        return 1
    }
    let report = Report()
    let machine = describeMachine()
    print("# claude-agent-bench\(settings.quick ? " (smoke run: behaviour checks only; the numbers are rough and not judged)" : "")")
    print("machine: \(machine["cpu"]?.stringValue ?? "?"), \(machine["cpus"]?.intValue ?? 0) CPUs, \(machine["memory"]?.stringValue ?? "?"), Linux \(machine["kernel"]?.stringValue ?? "?")")
    let workspace: Workspace
    do { workspace = try Workspace() } catch { FileHandle.standardError.write(Data("claude-agent-bench: \(error)\n".utf8)); return 1 }
    defer { workspace.close() }
    func wanted(_ name: String) -> Bool { settings.only.isEmpty || settings.only.contains(name) }
    do {
        if wanted("cli") || wanted("roundtrips") {
            let ours = try workspace.startClaudeAgent(settings.binaries, name: "agent")
            try AgentCalls(ours.socket).call(addAccountPayload("bench", token: fakeToken(0)))
            let ssh = try workspace.startSSHAgent()
            if wanted("cli") { try measureCLI(settings, workspace, ours: ours, ssh: ssh, report: report) }
            if wanted("roundtrips") { try measureRoundTrips(settings, ours: ours, ssh: ssh, report: report) }
            workspace.stop(ours.process)
            workspace.stop(ssh.process)
        }
        if wanted("coalescing") { try measureCoalescing(settings, workspace, report: report) }
        if wanted("scale") { try measureScale(settings, workspace, report: report) }
        if wanted("approval") { try measureApproval(settings, workspace, report: report) }
        if wanted("endpoint") { try measureEndpoint(settings, workspace, report: report) }
    } catch {
        FileHandle.standardError.write(Data("claude-agent-bench: \(error)\n".utf8))
        return 1
    }
    report.printVerdicts(quick: settings.quick)
    if let path = settings.jsonPath {
        do { try report.write(to: path, machine: machine, mode: settings.quick ? "quick" : "full") } catch {
            FileHandle.standardError.write(Data("claude-agent-bench: \(error)\n".utf8))
            return 1
        }
        print("\nwrote \(path)")
    }
    for broken in report.brokenChecks {
        FileHandle.standardError.write(Data("claude-agent-bench: BROKEN: \(broken.name): wanted \(broken.target), got \(broken.measured)\n".utf8))
    }
    return report.brokenChecks.isEmpty ? 0 : 1
}

exit(main())
