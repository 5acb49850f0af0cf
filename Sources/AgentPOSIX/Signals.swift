import CAgentShim
import Glibc

/// Termination signals delivered as readable events on a descriptor (`signalfd`), so the
/// poll loop handles them like any other input and no code runs in a signal handler.
public struct SignalDescriptor {
    public let fd: FileDescriptor

    /// Blocks `signals` for the process (threads created later inherit the mask) and
    /// returns a non-blocking descriptor that reports them.
    /// The corresponding C functions are `pthread_sigmask` and `signalfd`.
    public init(_ signals: [Int32]) throws(Errno) {
        _ = try syscall("pthread_sigmask") { cagent_block_signals(signals, Int32(signals.count)) }
        fd = FileDescriptor(rawValue: try syscall("signalfd") { cagent_signalfd(signals, Int32(signals.count)) })
    }

    /// The next pending signal number, or nil when none is pending.
    public func next() -> Int32? {
        let signal = cagent_read_signal(fd.rawValue)
        return signal > 0 ? signal : nil
    }
}

public enum Signals {
    /// Ignores SIGPIPE: writes to a vanished peer then fail with `EPIPE` instead of
    /// killing the process.
    public static func ignoreBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Clears an inherited signal mask, so Ctrl-C and SIGTERM work whoever started us.
    public static func unblockAll() {
        _ = cagent_unblock_all_signals()
    }

    /// Sends `signal` to `pid`. The corresponding C function is `kill`.
    public static func send(_ signal: Int32, to pid: Int32) throws(Errno) {
        _ = try syscall("kill") { kill(pid, signal) }
    }

    /// Whether a process with `pid` exists (signal 0 probe).
    public static func processExists(_ pid: Int32) -> Bool {
        do throws(Errno) {
            _ = try syscall("kill") { kill(pid, 0) }
            return true
        } catch {
            return error == .notPermitted
        }
    }
}
