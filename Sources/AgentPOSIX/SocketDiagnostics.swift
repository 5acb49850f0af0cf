import Glibc

/// Questions about one TCP socket, answered by the kernel's socket diagnostics
/// (`NETLINK_SOCK_DIAG`, what `ss` uses): who owns the socket with a given pair of
/// addresses. One exact lookup costs microseconds, where reading `/proc/net/tcp` walks
/// every socket of the host.
public enum SocketDiagnostics {
    /// What the kernel tells about a TCP socket.
    public struct TCPSocketInfo: Equatable, Sendable {
        /// The kernel's TCP state number (1 established, 4/5 fin-wait, 6 time-wait, 10 listen).
        public var state: UInt8
        public var uid: UInt32
        /// 0 for sockets no process holds (time-wait, orphans).
        public var inode: UInt32
    }

    // Constants from <linux/netlink.h>, <linux/sock_diag.h> and <linux/inet_diag.h>, which
    // Swift's Glibc module does not import. They are kernel ABI and never change.
    static let netlinkSocketDiagnostics: Int32 = 4  // NETLINK_SOCK_DIAG
    static let socketDiagnosticsByFamily: UInt16 = 20  // SOCK_DIAG_BY_FAMILY
    static let netlinkRequest: UInt16 = 1  // NLM_F_REQUEST
    static let netlinkError: UInt16 = 2  // NLMSG_ERROR
    static let headerLength = 16  // struct nlmsghdr
    static let requestLength = 16 + 56  // nlmsghdr + struct inet_diag_req_v2
    /// In the answer, struct inet_diag_msg after the header: family, state, timer,
    /// retrans (1 byte each), the 48-byte socket id, then expires, rqueue, wqueue, uid,
    /// inode (4 bytes each).
    static let stateOffset = 16 + 1
    static let uidOffset = 16 + 4 + 48 + 12
    static let inodeOffset = uidOffset + 4
    /// How long to wait for the kernel's answer, which comes at once; a second only
    /// bounds a netlink that never answers.
    static let answerTimeoutMilliseconds: Int64 = 1_000

    /// The TCP socket whose local address is `local` and remote address is `remote`, or
    /// nil when there is none.
    /// - Throws: `Errno` when the kernel cannot be asked (no netlink in this sandbox); the
    ///   caller may fall back to `/proc/net/tcp`.
    /// The corresponding C calls are `socket(AF_NETLINK)`, `send` and `recv`.
    public static func tcpSocket(local: SocketAddress, remote: SocketAddress) throws(Errno) -> TCPSocketInfo? {
        precondition(local.family == remote.family, "a TCP connection joins addresses of one family")
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = FileDescriptor(rawValue: try syscall("socket(AF_NETLINK)") { socket(AF_NETLINK, type, netlinkSocketDiagnostics) })
        defer { fd.close() }
        try fd.setTimeouts(milliseconds: answerTimeoutMilliseconds)
        let request = lookupRequest(local: local, remote: remote)
        _ = try syscall("send(NETLINK_SOCK_DIAG)") {
            request.withUnsafeBytes { Glibc.send(fd.rawValue, $0.baseAddress, $0.count, 0) }
        }
        var answer = [UInt8](repeating: 0, count: 8192)
        let count = try syscall("recv(NETLINK_SOCK_DIAG)") {
            answer.withUnsafeMutableBytes { recv(fd.rawValue, $0.baseAddress, $0.count, 0) }
        }
        return try parseAnswer(Array(answer[0..<count]))
    }

    /// `struct nlmsghdr` and `struct inet_diag_req_v2` for an exact lookup: integers in
    /// host order, ports and addresses in network order, no cookie (all ones).
    static func lookupRequest(local: SocketAddress, remote: SocketAddress) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(requestLength)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value) { bytes += $0 } }
        func appendAddress(_ address: SocketAddress) {
            bytes += address.address + [UInt8](repeating: 0, count: 16 - address.address.count)
        }
        append(UInt32(requestLength))
        append(socketDiagnosticsByFamily)
        append(netlinkRequest)
        append(UInt32(1))  // sequence number
        append(UInt32(0))  // port id: the kernel fills it in
        bytes.append(UInt8(local.family == .inet ? AF_INET : AF_INET6))
        bytes.append(UInt8(IPPROTO_TCP))
        bytes += [0, 0]  // no extensions, padding
        append(UInt32.max)  // every state
        append(local.port.bigEndian)
        append(remote.port.bigEndian)
        appendAddress(local)
        appendAddress(remote)
        append(UInt32(0))  // any interface
        append(UInt32.max)  // INET_DIAG_NOCOOKIE
        append(UInt32.max)
        return bytes
    }

    /// Reads the kernel's answer: a socket, "no such socket" (ENOENT), or an error.
    static func parseAnswer(_ bytes: [UInt8]) throws(Errno) -> TCPSocketInfo? {
        func load<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T? {
            guard offset + MemoryLayout<T>.size <= bytes.count else { return nil }
            return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
        }
        guard let kind = load(UInt16.self, at: 4) else { throw Errno(EPROTO, operation: "recv(NETLINK_SOCK_DIAG)") }
        if kind == netlinkError {
            let code = -(load(Int32.self, at: headerLength) ?? -EPROTO)
            if code == ENOENT { return nil }
            throw Errno(code, operation: "NETLINK_SOCK_DIAG")
        }
        guard kind == socketDiagnosticsByFamily, let uid = load(UInt32.self, at: uidOffset),
              let inode = load(UInt32.self, at: inodeOffset)
        else { throw Errno(EPROTO, operation: "recv(NETLINK_SOCK_DIAG)") }
        return TCPSocketInfo(state: bytes[stateOffset], uid: uid, inode: inode)
    }
}
