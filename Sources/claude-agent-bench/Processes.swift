import AgentPOSIX
import AgentProtocol
import Foundation
import Glibc

/// A temporary directory for one run's sockets, keys and configuration, removed at exit.
final class Workspace {
    let root: String
    private var children: [Process] = []

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/claude-agent-bench.XXXXXX").utf8CString)
        let made: UnsafeMutablePointer<CChar>
        do throws(Errno) {
            made = try syscallPointer("mkdtemp") { mkdtemp(&template) }
        } catch {
            throw BenchError("\(error)")
        }
        root = String(cString: made)
    }

    func path(_ name: String) -> String { root + "/" + name }

    /// Starts `executable` with `arguments`, its output discarded unless `output` names
    /// a file, and keeps it until `stop` or the end of the run.
    @discardableResult
    func start(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
               output: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        if let output {
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        children.append(process)
        return process
    }

    /// Runs a command to its end; throws when it fails.
    @discardableResult
    func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(output)")
        }
        return output
    }

    func stop(_ process: Process) {
        if process.isRunning { try? Signals.send(SIGKILL, to: process.processIdentifier) }
        process.waitUntilExit()
        children.removeAll { $0 === process }
    }

    func close() {
        for child in children where child.isRunning { try? Signals.send(SIGKILL, to: child.processIdentifier) }
        for child in children { child.waitUntilExit() }
        children = []
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// An agent under test: its process and socket.
struct RunningAgent {
    let process: Process
    let socket: String
    var pid: Int32 { process.processIdentifier }
}

/// Where the executables are, and how to find the peers on PATH.
struct Binaries {
    let directory: String
    var agent: String { directory + "/claude-agent" }
    var daemon: String { directory + "/claude-agentd" }

    static func onPath(_ name: String) -> String? {
        FileSystem.findOnPath(name)
    }

    static func require(_ name: String, package: String) throws -> String {
        guard let path = onPath(name) else { throw BenchError("\(name) is not on PATH; install Debian's \(package)") }
        return path
    }
}

/// Waits until something listens on `socket`, for at most `waitMilliseconds`.
/// - Throws: `BenchError` when `process` exits first or the wait runs out.
func waitForSocket(_ socket: String, process: Process,
                   waitMilliseconds: Int64 = BenchLimits.listenWaitMilliseconds) throws {
    let listening = try pollUntil(every: BenchLimits.socketPollMilliseconds, atMost: waitMilliseconds) {
        if UnixSocket.isLive(path: socket) { return true }
        guard process.isRunning else { throw BenchError("\(process.executableURL?.lastPathComponent ?? "?") exited before listening") }
        return false
    }
    guard listening else { throw BenchError("nothing listens on \(socket) after \(waitMilliseconds) ms") }
}

/// Asks `ready` every `pollMilliseconds` until it says true or `waitMilliseconds` have
/// passed on the monotonic clock; returns its last answer.
func pollUntil(every pollMilliseconds: Int64, atMost waitMilliseconds: Int64, _ ready: () throws -> Bool) rethrows -> Bool {
    let deadline = Clock.monotonicMilliseconds().saturatingAdding(waitMilliseconds)
    while true {
        if try ready() { return true }
        if Clock.monotonicMilliseconds() >= deadline { return false }
        Clock.sleep(milliseconds: pollMilliseconds)
    }
}

extension Workspace {
    func startClaudeAgent(_ binaries: Binaries, name: String, arguments: [String] = []) throws -> RunningAgent {
        let socket = path(name + ".sock")
        let process = try start(binaries.daemon, ["-a", socket] + arguments, output: path(name + ".log"))
        try waitForSocket(socket, process: process)
        return RunningAgent(process: process, socket: socket)
    }

    /// ssh-agent in the foreground, holding one Ed25519 key, as a user's would.
    func startSSHAgent() throws -> RunningAgent {
        let socket = path("ssh.sock")
        let agent = try Binaries.require("ssh-agent", package: "openssh-client")
        let process = try start(agent, ["-D", "-a", socket])
        try waitForSocket(socket, process: process)
        try run(try Binaries.require("ssh-keygen", package: "openssh-client"), ["-q", "-t", "ed25519", "-N", "", "-f", path("key")])
        try run(try Binaries.require("ssh-add", package: "openssh-client"), ["-q", path("key")],
                environment: ["SSH_AUTH_SOCK": socket])
        return RunningAgent(process: process, socket: socket)
    }
}

/// A process's memory, from /proc/PID/smaps_rollup, in KiB.
struct Memory {
    /// Resident: every page mapped in, shared library text included.
    var resident: Int
    /// Private dirty: the process's own heap, stacks and written data.
    var own: Int

    init(pid: Int32) throws {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else {
            throw BenchError("cannot read /proc/\(pid)/smaps_rollup")
        }
        func field(_ name: String) -> Int {
            for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
                return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
            }
            return 0
        }
        resident = field("Rss")
        own = field("Private_Dirty")
    }
}

/// Peak resident size (KiB) of `command` run to its end `runs` times, the largest seen:
/// what one invocation costs the machine while it runs.
///
/// A child spawned straight from the benchmark would report the benchmark's own peak:
/// Linux carries the peak of the memory a process had before `exec` into `ru_maxrss`,
/// and posix_spawn's child shares ours. So a small `sh` starts the command in the
/// background and exits; the command, orphaned, becomes our child (we are its
/// subreaper, see `main`), and `wait4` tells its own peak. Its starting peak is `sh`'s,
/// about 1 MiB, a bound this measurement cannot go below.
func peakResident(_ command: [String], environment: [String: String], runs: Int = 20) throws -> Int {
    var peak = 0
    let launcher = ["/bin/sh", "-c", "\"$@\" >/dev/null 2>&1 </dev/null & echo $!", "sh"] + command
    for _ in 0..<runs {
        let pipe: (read: FileDescriptor, write: FileDescriptor)
        do throws(Errno) { pipe = try FileDescriptor.pipe() } catch { throw BenchError("\(error)") }
        let shell: Int32
        do throws(Errno) {
            shell = try ProcessControl.spawn(launcher[0], arguments: Array(launcher.dropFirst()),
                                             environment: childEnvironment(environment), standardOutput: pipe.write)
        } catch {
            pipe.read.close()
            pipe.write.close()
            throw BenchError("cannot run \(launcher[0]): \(error)")
        }
        pipe.write.close()
        var output: [UInt8] = []
        while output.count < 64 {
            guard let more = try? pipe.read.read(upTo: 64 - output.count), !more.isEmpty else { break }
            output += more
        }
        pipe.read.close()
        _ = try? ProcessControl.exitStatus(of: shell, waiting: true)
        guard let pid = Int32(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchError("sh did not say which pid it started")
        }
        let ended: (status: ExitStatus, peakResidentKiB: Int)
        do throws(Errno) {
            ended = try ProcessControl.exitStatusAndPeakResident(of: pid)
        } catch {
            throw BenchError("cannot wait for \(command[0]): \(error)")
        }
        guard ended.status == .exited(0) else { throw BenchError("\(command.joined(separator: " ")) failed (\(ended.status))") }
        peak = max(peak, ended.peakResidentKiB)
    }
    return peak
}

/// This process's environment with `environment` laid over it: what a spawned command gets.
func childEnvironment(_ environment: [String: String]) -> [String: String] {
    ProcessInfo.processInfo.environment.merging(environment) { $1 }
}
