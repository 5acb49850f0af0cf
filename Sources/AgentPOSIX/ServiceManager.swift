import Glibc

/// The two service-manager protocols of systemd the agent speaks, without libsystemd:
/// socket activation (`sd_listen_fds(3)`) and readiness notification (`sd_notify(3)`).
/// Both are a few environment variables and, for the second, one datagram; the formats
/// are systemd's documented interface (sd_listen_fds(3), sd_notify(3)), which other
/// service managers (s6, dinit) implement too.
public enum ServiceManager {
    /// The first descriptor a service manager passes (`SD_LISTEN_FDS_START`).
    public static let listenDescriptorsStart: Int32 = 3
    /// More passed descriptors than this is not a configuration we could mean: the agent
    /// listens on one socket. A bound on the loop, not a systemd limit.
    public static let maxListenDescriptors = 16
    /// Why the passed descriptors cannot be used.
    public struct ActivationError: Error, Equatable, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    /// The descriptors passed by socket activation, or `[]` when this process was not
    /// socket-activated (`LISTEN_PID` unset or another process's pid, as `sd_listen_fds`
    /// ignores variables meant for a parent). `LISTEN_PID`, `LISTEN_FDS` and
    /// `LISTEN_FDNAMES` are removed from the environment either way, so no child inherits
    /// them (as `sd_listen_fds(1)`), and each descriptor is made close-on-exec.
    /// - Throws: `ActivationError` when `LISTEN_PID` is ours but `LISTEN_FDS` is not a
    ///   number from 1 to `maxListenDescriptors`.
    public static func takeListenDescriptors() throws(ActivationError) -> [FileDescriptor] {
        let pidText = ProcessControl.environment("LISTEN_PID")
        let countText = ProcessControl.environment("LISTEN_FDS")
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
        guard let pidText, Int32(pidText) == getpid() else { return [] }
        guard let countText, let count = Int(countText), (1...maxListenDescriptors).contains(count) else {
            throw ActivationError(description: "LISTEN_FDS is \"\(countText ?? "")\": expected 1 to \(maxListenDescriptors) descriptors")
        }
        var descriptors: [FileDescriptor] = []
        for offset in 0..<Int32(count) {
            let fd = FileDescriptor(rawValue: listenDescriptorsStart + offset)
            // A closed descriptor here is the environment's mistake, not ours: look before
            // fcntl, which treats EBADF as a bug.
            guard (try? FileSystem.readLink("/proc/self/fd/\(fd.rawValue)")) != nil else {
                throw ActivationError(description: "LISTEN_FDS names descriptor \(fd.rawValue), which is not open")
            }
            do throws(Errno) {
                try fd.setCloseOnExec()
            } catch {
                throw ActivationError(description: "passed descriptor \(fd.rawValue) is not open: \(error)")
            }
            descriptors.append(fd)
        }
        return descriptors
    }

    /// Where to send readiness notifications: `NOTIFY_SOCKET`, read once and removed from
    /// the environment so that helpers the agent starts do not notify in its name. Nil
    /// when the variable is unset (not started by a service manager that wants them).
    public static func takeNotifySocket() -> String? {
        let path = ProcessControl.environment("NOTIFY_SOCKET")
        unsetenv("NOTIFY_SOCKET")
        return path
    }

    /// Sends one notification datagram (`READY=1`, `STOPPING=1`, `STATUS=...`) to the
    /// service manager's socket: a path, or an abstract name when it starts with `@`
    /// (sd_notify(3)). The corresponding C functions are `socket` and `sendto`.
    /// - Throws: `Errno` when the socket cannot be made or the datagram is not taken
    ///   (`ENAMETOOLONG` for a path past `UnixSocket.maxPathBytes` bytes, a `sun_path`'s
    ///   room; `ECONNREFUSED` when no one listens).
    public static func notify(_ state: String, socketPath: String) throws(Errno) {
        var name = Array(socketPath.utf8)
        guard !name.isEmpty, name.count <= UnixSocket.maxPathBytes else {
            throw Errno(ENAMETOOLONG, operation: "NOTIFY_SOCKET (\(name.count) bytes, at most \(UnixSocket.maxPathBytes))")
        }
        let abstract = name[0] == UInt8(ascii: "@")
        if abstract { name[0] = 0 }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: name) }
        // An abstract name is exactly its bytes; a path includes its terminating NUL.
        let length = socklen_t(MemoryLayout<sa_family_t>.size + name.count + (abstract ? 0 : 1))
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = FileDescriptor(rawValue: try syscall("socket(AF_UNIX, SOCK_DGRAM)") { socket(AF_UNIX, type, 0) })
        defer { fd.close() }
        let message = Array(state.utf8)
        _ = try withUnsafePointer(to: &address) { (pointer) throws(Errno) -> Int in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(Errno) -> Int in
                try syscall("sendto \(socketPath)") {
                    message.withUnsafeBytes { bytes in
                        sendto(fd.rawValue, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), sa, length)
                    }
                }
            }
        }
    }
}
