import CAgentShim
import Glibc

/// The credentials of the process at the other end of a Unix-domain socket, as the kernel
/// recorded them at `connect` time.
public struct PeerCredentials: Equatable, Sendable {
    public let pid: Int32
    public let uid: UInt32
    public let gid: UInt32
}

/// Unix-domain stream sockets: the agent's listener and its clients.
public enum UnixSocket {
    /// `sun_path` holds 108 bytes including the terminating NUL.
    public static let maxPathBytes = 107

    /// Builds a `sockaddr_un`, refusing paths that would be truncated.
    static func withAddress<T>(
        _ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws(Errno) -> T
    ) throws(Errno) -> T {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= maxPathBytes else {
            throw Errno(ENAMETOOLONG, operation: "socket path (\(bytes.count) bytes, at most \(maxPathBytes))")
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        return try withUnsafePointer(to: &address) { (pointer) throws(Errno) -> T in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(Errno) -> T in
                try body(sa, length)
            }
        }
    }

    static func makeSocket(nonBlocking: Bool) throws(Errno) -> FileDescriptor {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
        return FileDescriptor(rawValue: try syscall("socket") { socket(AF_UNIX, type, 0) })
    }

    /// Creates a non-blocking listening socket at `path`, with mode 0600: the umask is
    /// 0177 around `bind`, so there is no window in which the socket is more open.
    ///
    /// `bind(2)` makes the file appear before `listen(2)`, and a client that connects in
    /// between is refused; so the socket is bound under a staging name beside `path` and
    /// renamed into place once it listens (never over an existing file): whoever sees `path`
    /// can connect. When the
    /// staging name would not fit `sun_path`, it binds `path` directly.
    public static func listen(path: String, backlog: Int32 = POSIXLimits.listenBacklog) throws(Errno) -> FileDescriptor {
        let staging = path + ".\(getpid()).new"
        let direct = staging.utf8.count > maxPathBytes
        let bound = direct ? path : staging
        let fd = try makeSocket(nonBlocking: true)
        do throws(Errno) {
            let old = umask(0o177)
            defer { umask(old) }
            try withAddress(bound) { (address, length) throws(Errno) in
                _ = try syscall("bind \(bound)") { bind(fd.rawValue, address, length) }
            }
            _ = try syscall("listen") { Glibc.listen(fd.rawValue, backlog) }
            // Never over a socket another agent made meanwhile: that fails as bind(2) would.
            if !direct { try FileSystem.renameWithoutReplacing(staging, to: path) }
        } catch {
            fd.close()
            if !direct { try? FileSystem.removeFile(staging) }
            throw error
        }
        return fd
    }

    /// Connects a blocking client socket to `path`.
    public static func connect(path: String) throws(Errno) -> FileDescriptor {
        let fd = try makeSocket(nonBlocking: false)
        do throws(Errno) {
            try withAddress(path) { (address, length) throws(Errno) in
                _ = try syscall("connect \(path)") { Glibc.connect(fd.rawValue, address, length) }
            }
        } catch {
            fd.close()
            throw error
        }
        return fd
    }

    /// Two connected, blocking, close-on-exec stream sockets, for talking to a child. A
    /// socket rather than a pipe so that writing to a child that has gone away is `EPIPE`
    /// from `send` with `MSG_NOSIGNAL`, never a SIGPIPE in a process that did not ignore it.
    /// The corresponding C function is `socketpair`.
    public static func pair() throws(Errno) -> (FileDescriptor, FileDescriptor) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        _ = try syscall("socketpair") { socketpair(AF_UNIX, type, 0, &fds) }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// Accepts one connection as a non-blocking, close-on-exec descriptor, or nil when none
    /// is waiting. The corresponding C function is `accept4`.
    public static func accept(_ listener: FileDescriptor) throws(Errno) -> FileDescriptor? {
        do throws(Errno) {
            let flags = Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
            let fd = try syscall("accept4") { cagent_accept4(listener.rawValue, flags) }
            return FileDescriptor(rawValue: fd)
        } catch where error == .wouldBlock || error.code == ECONNABORTED {
            return nil
        }
    }

    /// The peer's pid, uid and gid. The corresponding option is `SO_PEERCRED`.
    public static func peerCredentials(of fd: FileDescriptor) throws(Errno) -> PeerCredentials {
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
        _ = try syscall("getsockopt(SO_PEERCRED)") { cagent_peer_credentials(fd.rawValue, &pid, &uid, &gid) }
        return PeerCredentials(pid: pid, uid: uid, gid: gid)
    }

    /// Whether something accepts connections at `path` right now. A refused or missing
    /// socket means no live agent; used so a live agent is never clobbered.
    public static func isLive(path: String) -> Bool {
        guard let fd = try? connect(path: path) else { return false }
        fd.close()
        return true
    }
}
