import Glibc

/// Checks on a listening socket this process did not make (one passed by a service
/// manager), so that it is served only when it is what the agent would have made itself.
extension UnixSocket {
    /// One integer socket option at level `SOL_SOCKET`. The corresponding C function is
    /// `getsockopt`.
    static func integerOption(_ fd: FileDescriptor, _ option: Int32, _ name: String) throws(Errno) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try syscall("getsockopt(\(name))") { getsockopt(fd.rawValue, SOL_SOCKET, option, &value, &length) }
        return value
    }

    /// Whether `fd` is a Unix-domain stream socket in the listening state (`SO_DOMAIN`,
    /// `SO_TYPE`, `SO_ACCEPTCONN`).
    /// - Throws: `Errno` when `fd` is not a socket (`ENOTSOCK`).
    public static func isListeningStreamSocket(_ fd: FileDescriptor) throws(Errno) -> Bool {
        let domain = try integerOption(fd, SO_DOMAIN, "SO_DOMAIN")
        let type = try integerOption(fd, SO_TYPE, "SO_TYPE")
        let listening = try integerOption(fd, SO_ACCEPTCONN, "SO_ACCEPTCONN")
        return domain == AF_UNIX && type == Int32(SOCK_STREAM.rawValue) && listening != 0
    }

    /// The path a Unix-domain socket is bound to, or nil for an unbound or abstract one.
    /// The corresponding C function is `getsockname`.
    public static func boundPath(of fd: FileDescriptor) throws(Errno) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        _ = try withUnsafeMutablePointer(to: &address) { (pointer) throws(Errno) -> Int32 in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(Errno) -> Int32 in
                try syscall("getsockname") { getsockname(fd.rawValue, sa, &length) }
            }
        }
        let pathLength = Int(length) - MemoryLayout<sa_family_t>.size
        guard pathLength > 0 else { return nil }
        let bytes = withUnsafeBytes(of: &address.sun_path) { raw in Array(raw.prefix(min(pathLength, raw.count))) }
        guard let first = bytes.first, first != 0 else { return nil }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}

extension UnixSocket {
    /// Whether `fd` is a connected (not listening) Unix-domain stream socket whose other end
    /// belongs to process `pid` (`SO_PEERCRED`: the process that connected it, or that made
    /// the pair with socketpair). False for any other descriptor, a closed one included.
    public static func isStreamSocket(_ fd: FileDescriptor, connectedTo pid: Int32) -> Bool {
        // Open? A closed descriptor is not an error here, and EBADF would trap (`syscall`).
        guard (try? FileSystem.readLink("/proc/self/fd/\(fd.rawValue)")) != nil,
              (try? integerOption(fd, SO_DOMAIN, "SO_DOMAIN")) == AF_UNIX,
              (try? integerOption(fd, SO_TYPE, "SO_TYPE")) == Int32(SOCK_STREAM.rawValue),
              (try? integerOption(fd, SO_ACCEPTCONN, "SO_ACCEPTCONN")) == 0,
              let peer = try? peerCredentials(of: fd) else { return false }
        return peer.pid == pid
    }
}
