import CAgentShim
import Glibc

/// An open file descriptor. It does not close itself: each one has exactly one owner,
/// which calls `close()` (usually in a `defer`).
public struct FileDescriptor: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let standardInput = FileDescriptor(rawValue: 0)
    public static let standardOutput = FileDescriptor(rawValue: 1)
    public static let standardError = FileDescriptor(rawValue: 2)

    /// Closes the descriptor. Errors from `close` are not actionable (the fd is gone
    /// either way), so they are ignored. The corresponding C function is `close`.
    public func close() {
        _ = Glibc.close(rawValue)
    }

    /// Reads up to `count` bytes; an empty array means end of file.
    /// The corresponding C function is `read`.
    public func read(upTo count: Int) throws(Errno) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = try syscall("read") {
            buffer.withUnsafeMutableBytes { raw in Glibc.read(rawValue, raw.baseAddress, raw.count) }
        }
        buffer.removeLast(count - n)
        return buffer
    }

    /// Reads into `buffer`, returning the number of bytes read (0 at end of file).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try syscall("read") { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// What one read from a non-blocking descriptor gave.
    public enum ReadOutcome: Equatable {
        /// This many bytes are at the start of the buffer.
        case bytes(Int)
        /// Nothing to read now.
        case wouldBlock
        /// The peer closed its end.
        case endOfFile
        case failed(Errno)
    }

    /// One read from a non-blocking descriptor into `buffer`, for poll loops: the four
    /// outcomes they branch on, without a throw to catch.
    public func readAvailable(into buffer: inout [UInt8]) -> ReadOutcome {
        let result = buffer.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try read(into: raw) } }
        switch result {
        case .success(0): return .endOfFile
        case .success(let count): return .bytes(count)
        case .failure(let error) where error == .wouldBlock: return .wouldBlock
        case .failure(let error): return .failed(error)
        }
    }

    /// Writes some of `bytes`, returning how many were written. Sockets use `send` with
    /// `MSG_NOSIGNAL` so a vanished peer is an `EPIPE`, not a signal.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try syscall("write") { Glibc.write(rawValue, bytes.baseAddress, bytes.count) }
    }

    /// Writes all of `bytes`, blocking as needed.
    public func writeAll(_ bytes: [UInt8]) throws(Errno) {
        var offset = 0
        while offset < bytes.count {
            let n = try syscall("write") {
                bytes.withUnsafeBytes { raw in
                    let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
                    return Glibc.write(rawValue, rest.baseAddress, rest.count)
                }
            }
            offset += n
        }
    }

    /// Sends with `MSG_NOSIGNAL`; returns how many bytes were taken.
    /// The corresponding C function is `send`.
    public func send(_ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try syscall("send") { Glibc.send(rawValue, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends `bytes[offset...]` with `MSG_NOSIGNAL`; returns how many bytes were taken.
    public func send(_ bytes: [UInt8], from offset: Int) throws(Errno) -> Int {
        try syscall("send") {
            bytes.withUnsafeBytes { raw in
                let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
                return Glibc.send(rawValue, rest.baseAddress, rest.count, Int32(MSG_NOSIGNAL))
            }
        }
    }

    /// Sends all of `bytes`, blocking as needed (for blocking client sockets).
    public func sendAll(_ bytes: [UInt8]) throws(Errno) {
        var offset = 0
        while offset < bytes.count {
            let n = try syscall("send") {
                bytes.withUnsafeBytes { raw in
                    let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
                    return Glibc.send(rawValue, rest.baseAddress, rest.count, Int32(MSG_NOSIGNAL))
                }
            }
            offset += n
        }
    }

    /// Switches the descriptor to non-blocking mode. The C function is `fcntl(F_SETFL)`.
    public func setNonBlocking(_ on: Bool = true) throws(Errno) {
        let flags = try syscall("fcntl") { fcntl(rawValue, F_GETFL) }
        let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if wanted != flags { _ = try syscall("fcntl") { fcntl(rawValue, F_SETFL, wanted) } }
    }

    /// Sets or clears close-on-exec.
    public func setCloseOnExec(_ on: Bool = true) throws(Errno) {
        let flags = try syscall("fcntl") { fcntl(rawValue, F_GETFD) }
        let wanted = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC
        if wanted != flags { _ = try syscall("fcntl") { fcntl(rawValue, F_SETFD, wanted) } }
    }

    /// Sets `SO_RCVTIMEO` and `SO_SNDTIMEO` so blocking calls give up with `EAGAIN`.
    /// Less than 1 ms is 1 ms: a zero `timeval` would mean waiting forever.
    public func setTimeouts(milliseconds: Int64) throws(Errno) {
        let milliseconds = max(1, milliseconds)
        var tv = timeval(tv_sec: Int(milliseconds / 1000), tv_usec: Int(milliseconds % 1000) * 1000)
        let size = socklen_t(MemoryLayout<timeval>.size)
        _ = try syscall("setsockopt") { setsockopt(rawValue, SOL_SOCKET, SO_RCVTIMEO, &tv, size) }
        _ = try syscall("setsockopt") { setsockopt(rawValue, SOL_SOCKET, SO_SNDTIMEO, &tv, size) }
    }

    /// Whether the descriptor refers to a terminal. The C function is `isatty`.
    public var isTerminal: Bool { isatty(rawValue) == 1 }

    /// Duplicates onto `target` (closing what was there). The C function is `dup2`.
    public func duplicate(as target: FileDescriptor) throws(Errno) {
        _ = try syscall("dup2") { dup2(rawValue, target.rawValue) }
    }

    /// A pipe whose both ends are close-on-exec. The C function is `pipe2`.
    public static func pipe(nonBlocking: Bool = false) throws(Errno) -> (read: FileDescriptor, write: FileDescriptor) {
        var fds: [Int32] = [-1, -1]
        let flags = O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0)
        _ = try syscall("pipe2") { cagent_pipe2(&fds, flags) }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// Opens a file with close-on-exec always set. The C function is `open`.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(Errno) -> FileDescriptor {
        let fd = try syscall("open \(path)") { Glibc.open(path, flags | O_CLOEXEC, mode) }
        return FileDescriptor(rawValue: fd)
    }

    /// Flushes the file to stable storage. The C function is `fsync`.
    public func sync() throws(Errno) {
        _ = try syscall("fsync") { fsync(rawValue) }
    }
}
