import Glibc

/// A failed system call: the C `errno` and the name of the call that set it.
///
/// Equality compares only the code, so `catch let error where error == .wouldBlock`
/// reads naturally whatever operation failed.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let code: Int32
    public let operation: String

    public init(_ code: Int32, operation: String = "") {
        self.code = code
        self.operation = operation
    }

    public static func == (lhs: Errno, rhs: Errno) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String {
        let text = String(cString: strerror(code))
        return operation.isEmpty ? text : "\(operation): \(text)"
    }

    public static let interrupted = Errno(EINTR)
    /// `EAGAIN`, which is `EWOULDBLOCK` on Linux: a non-blocking call that would wait, or a
    /// blocking one that reached its `SO_RCVTIMEO`/`SO_SNDTIMEO`.
    public static let wouldBlock = Errno(EAGAIN)
    public static let connectionRefused = Errno(ECONNREFUSED)
    public static let noSuchFile = Errno(ENOENT)
    public static let fileExists = Errno(EEXIST)
    public static let addressInUse = Errno(EADDRINUSE)
    public static let nameTooLong = Errno(ENAMETOOLONG)
    public static let brokenPipe = Errno(EPIPE)
    public static let connectionReset = Errno(ECONNRESET)
    public static let notConnected = Errno(ENOTCONN)
    public static let inProgress = Errno(EINPROGRESS)
    public static let noChild = Errno(ECHILD)
    public static let noSuchProcess = Errno(ESRCH)
    public static let permissionDenied = Errno(EACCES)
    public static let notDirectory = Errno(ENOTDIR)
    public static let notEmpty = Errno(ENOTEMPTY)
    public static let timedOut = Errno(ETIMEDOUT)
    public static let tooManyFiles = Errno(EMFILE)
    public static let notPermitted = Errno(EPERM)
    public static let connectionAborted = Errno(ECONNABORTED)
}

/// Runs a system call, retrying on `EINTR` (unless `retryingInterrupts` is false, for a
/// wait that a signal must end), and turns a `-1` result into a thrown `Errno`.
///
/// This function and `syscallPointer` are the only places that read `errno`, both
/// through `failure(of:)`. Public so that the benchmark's own socket code uses it too.
@inline(__always)
public func syscall<T: FixedWidthInteger>(_ operation: String, retryingInterrupts: Bool = true,
                                          _ body: () -> T) throws(Errno) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let error = failure(of: operation)
        if error == .interrupted && retryingInterrupts { continue }
        throw error
    }
}

/// Runs a C function that returns a pointer, `nil` on failure with `errno` set (`opendir`,
/// `mkdtemp`), retrying on `EINTR`, and turns `nil` into a thrown `Errno`.
@inline(__always)
public func syscallPointer<T>(_ operation: String, _ body: () -> T?) throws(Errno) -> T {
    while true {
        if let result = body() { return result }
        let error = failure(of: operation)
        if error == .interrupted { continue }
        throw error
    }
}

/// The `errno` a call just set, as an `Errno`; a bad descriptor or address is a bug, not
/// the world's error, and traps.
@inline(__always)
private func failure(of operation: String) -> Errno {
    let code = errno
    precondition(code != EBADF && code != EFAULT, "\(operation): \(String(cString: strerror(code))) (a bug)")
    return Errno(code, operation: operation)
}
