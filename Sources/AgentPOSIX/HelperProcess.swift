import Glibc

/// One exchange with a short-lived helper process: start it, write a request to its
/// standard input, read its answer from its standard output until it closes it, reap it.
///
/// The agent runs its HTTPS exchanges this way (as OpenSSH separates privileges), so the
/// long-lived process that holds every token links no TLS or HTTP library. The caller's
/// thread blocks for the whole exchange, never longer than the time-out: a helper that
/// hangs, or writes without end, is killed with SIGKILL. The child is always reaped.
public enum HelperProcess {
    /// How often a helper that closed its output is checked for its exit, until the deadline.
    static let exitPollMilliseconds: Int64 = 1

    /// Why an exchange was cut short.
    public enum Interruption: Equatable, Sendable {
        /// The time-out passed before the helper finished; it was killed.
        case deadline
        /// It wrote more than the output limit; it was killed.
        case outputLimit
    }

    /// What a finished exchange gave.
    public struct Result: Sendable {
        /// All the helper wrote (up to the limit, when `interruption` is `.outputLimit`).
        public var output: [UInt8]
        /// How it ended.
        public var status: ExitStatus
        /// nil when the helper closed its output and exited by itself in time.
        public var interruption: Interruption?
    }

    /// Runs `path` with `input` on its standard input (then end of file) and collects its
    /// standard output. Standard error goes to /dev/null: a helper's diagnostics must not
    /// reach the agent's log, which never shows secrets.
    ///
    /// Input and output travel over one socket pair, the child's standard input and
    /// output both, never through arguments or the environment, which other local users
    /// can read in `/proc`.
    /// - Parameters:
    ///   - timeoutMilliseconds: for the whole exchange, start to reaping.
    ///   - outputLimit: the most output to accept, in bytes.
    /// - Throws: `Errno` when the helper cannot be started (`ENOENT`, `EACCES`, …) or the
    ///   socket fails; a started child has been killed and reaped by then.
    public static func run(_ path: String, arguments: [String] = [], input: [UInt8],
                           timeoutMilliseconds: Int64, outputLimit: Int) throws(Errno) -> Result {
        let deadline = Clock.monotonicMilliseconds() + timeoutMilliseconds
        let (mine, theirs) = try UnixSocket.pair()
        defer { mine.close() }
        let pid: Int32
        do throws(Errno) {
            pid = try ProcessControl.spawnHelper(path, arguments: arguments, channel: theirs)
        } catch {
            theirs.close()
            throw error
        }
        theirs.close()

        var output: [UInt8] = []
        var interruption: Interruption?
        do throws(Errno) {
            try mine.setNonBlocking()
            interruption = try talk(over: mine, input: input, output: &output, limit: outputLimit, deadline: deadline)
            if interruption == nil {
                // It closed its output; it exits next, but give it only until the deadline.
                while true {
                    if let status = try ProcessControl.exitStatus(of: pid, waiting: false) {
                        return Result(output: output, status: status, interruption: nil)
                    }
                    if Clock.monotonicMilliseconds() >= deadline {
                        interruption = .deadline
                        break
                    }
                    Clock.sleep(milliseconds: Self.exitPollMilliseconds)
                }
            }
        } catch {
            try? Signals.send(SIGKILL, to: pid)
            _ = try? ProcessControl.exitStatus(of: pid, waiting: true)
            Memory.wipe(&output)
            throw error
        }
        try? Signals.send(SIGKILL, to: pid)
        let status = try ProcessControl.exitStatus(of: pid, waiting: true) ?? .killed(signal: SIGKILL)
        return Result(output: output, status: status, interruption: interruption)
    }

    /// Sends `input`, then shuts down writing, while reading whatever arrives, until the
    /// helper closes its end (nil), the deadline passes or the output passes the limit.
    private static func talk(over socket: FileDescriptor, input: [UInt8], output: inout [UInt8],
                             limit: Int, deadline: Int64) throws(Errno) -> Interruption? {
        var sent = 0
        var writing = true
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        defer { Memory.wipe(&buffer) }
        var pollSet = PollSet()
        while true {
            if writing && sent == input.count {
                writing = false
                // End of file for the helper's reads; its answer can still come back.
                try? socket.shutdown(.write)
            }
            let remaining = deadline - Clock.monotonicMilliseconds()
            if remaining <= 0 { return .deadline }
            pollSet.removeAll()
            pollSet.add(socket, writing ? [.readable, .writable] : .readable)
            guard try pollSet.wait(timeoutMilliseconds: Int32(clamping: remaining)) > 0 else { continue }
            let events = pollSet.returnedEvents(at: 0)
            if writing && !events.isDisjoint(with: [.writable, .error, .hangUp]) {
                do throws(Errno) {
                    sent += try socket.send(input, from: sent)
                } catch where error == .wouldBlock {
                    // Spurious readiness: poll again.
                } catch where error == .brokenPipe || error == .connectionReset {
                    // It stopped reading; whatever it wrote still says why.
                    sent = input.count
                }
            }
            if !events.isDisjoint(with: [.readable, .error, .hangUp]) {
                switch socket.readAvailable(into: &buffer) {
                case .bytes(let count):
                    guard output.count + count <= limit else { return .outputLimit }
                    output.append(contentsOf: buffer[0..<count])
                case .endOfFile:
                    return nil
                case .wouldBlock:
                    break
                case .failed(let error) where error == .connectionReset:
                    // A Unix socket reports a reset when the peer closed without reading
                    // all we sent: for us, that too is the end of its answer.
                    return nil
                case .failed(let error):
                    throw error
                }
            }
        }
    }
}
