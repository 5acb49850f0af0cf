import Glibc

/// How a child process ended, decoded from `waitpid`'s status word.
public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    /// It called `exit` (or returned from `main`) with this status.
    case exited(Int32)
    /// A signal ended it.
    case killed(signal: Int32)

    /// WIFEXITED, WEXITSTATUS and WTERMSIG are macros Swift cannot import, so the status
    /// word is decoded by hand (Linux's layout: the signal in the low 7 bits, the exit
    /// status in the next byte).
    init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? .exited((status >> 8) & 0xff) : .killed(signal: signal)
    }

    /// The status a shell would show: the exit status, or 128 plus the signal number.
    public var shellCode: Int32 {
        switch self {
        case .exited(let code): return code
        case .killed(let signal): return 128 + signal
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .killed(let signal): return "killed by signal \(signal)"
        }
    }
}
