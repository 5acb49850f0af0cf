import CAgentShim
import Glibc

/// An IPv4 or IPv6 address and port, as loopback listeners need them.
public struct SocketAddress: Equatable, Sendable, CustomStringConvertible {
    public enum Family: Sendable { case inet, inet6 }
    public var family: Family
    /// The address bytes in network order: 4 for IPv4, 16 for IPv6.
    public var address: [UInt8]
    public var port: UInt16

    public init(family: Family, address: [UInt8], port: UInt16) {
        self.family = family
        self.address = address
        self.port = port
    }

    /// Parses "127.0.0.1:7777", "[::1]:7777" or "localhost:7777" (as 127.0.0.1).
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { host = "127.0.0.1" }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            self.init(family: .inet, address: withUnsafeBytes(of: &v4) { Array($0) }, port: port)
        } else if inet_pton(AF_INET6, host, &v6) == 1 {
            self.init(family: .inet6, address: withUnsafeBytes(of: &v6) { Array($0) }, port: port)
        } else {
            return nil
        }
    }

    /// 127.0.0.0/8 or ::1 (or ::ffff:127.x).
    public var isLoopback: Bool {
        switch family {
        case .inet: return address.first == 127
        case .inet6:
            if address == [UInt8](repeating: 0, count: 15) + [1] { return true }
            return address.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] && address[12] == 127
        }
    }

    public var host: String {
        var buffer = [CChar](repeating: 0, count: 64)
        var bytes = address
        let af = family == .inet ? AF_INET : AF_INET6
        _ = inet_ntop(af, &bytes, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// "127.0.0.1:7777" or "[::1]:7777".
    public var description: String { family == .inet ? "\(host):\(port)" : "[\(host)]:\(port)" }

    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        switch family {
        case .inet:
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &sa.sin_addr) { $0.copyBytes(from: address) }
            return withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .inet6:
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sa.sin6_addr) { $0.copyBytes(from: address) }
            return withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }

    init?(storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let sa = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
            var addr = sa.sin_addr
            self.init(family: .inet, address: withUnsafeBytes(of: &addr) { Array($0) }, port: UInt16(bigEndian: sa.sin_port))
        case AF_INET6:
            let sa = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
            var addr = sa.sin6_addr
            self.init(family: .inet6, address: withUnsafeBytes(of: &addr) { Array($0) }, port: UInt16(bigEndian: sa.sin6_port))
        default:
            return nil
        }
    }
}

/// TCP sockets for loopback HTTP listeners.
public enum TCPSocket {
    /// A non-blocking, close-on-exec listening socket bound to `address` (port 0: any).
    public static func listen(_ address: SocketAddress, backlog: Int32 = POSIXLimits.listenBacklog) throws(Errno) -> FileDescriptor {
        let domain = address.family == .inet ? AF_INET : AF_INET6
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd = FileDescriptor(rawValue: try syscall("socket") { socket(domain, type, 0) })
        do throws(Errno) {
            var on: Int32 = 1
            _ = try syscall("setsockopt(SO_REUSEADDR)") {
                setsockopt(fd.rawValue, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            }
            if address.family == .inet6 {
                _ = try syscall("setsockopt(IPV6_V6ONLY)") {
                    setsockopt(fd.rawValue, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
                }
            }
            _ = try syscall("bind \(address)") { address.withSockaddr { bind(fd.rawValue, $0, $1) } }
            _ = try syscall("listen") { Glibc.listen(fd.rawValue, backlog) }
        } catch {
            fd.close()
            throw error
        }
        return fd
    }

    /// The address a socket is bound to (to learn the port chosen for port 0).
    public static func localAddress(of fd: FileDescriptor) throws(Errno) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try syscall("getsockname") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd.rawValue, $0, &length) }
            }
        }
        guard let address = SocketAddress(storage: storage) else { throw Errno(EAFNOSUPPORT, operation: "getsockname") }
        return address
    }

    /// Sends small writes at once instead of holding them for Nagle's algorithm, which
    /// otherwise stalls a request–response exchange on a kept-alive connection by the
    /// peer's delayed ACK (40 ms on Linux). Best effort: a socket that refuses keeps Nagle.
    /// The corresponding C function is `setsockopt(IPPROTO_TCP, TCP_NODELAY)`.
    public static func setNoDelay(_ fd: FileDescriptor) {
        var on: Int32 = 1
        _ = setsockopt(fd.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Accepts one connection (non-blocking, close-on-exec) with the peer's address, or nil
    /// when none is waiting. Sets `TCP_NODELAY`: responses go out in one write and must not
    /// wait for Nagle's algorithm (a 40 ms keep-alive stall otherwise).
    public static func accept(_ listener: FileDescriptor) throws(Errno) -> (FileDescriptor, SocketAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let flags = Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let raw: Int32
        do throws(Errno) {
            raw = try syscall("accept4") {
                withUnsafeMutablePointer(to: &storage) { cagent_accept4_address(listener.rawValue, $0, &length, flags) }
            }
        } catch where error == .wouldBlock || error.code == ECONNABORTED {
            return nil
        }
        let fd = FileDescriptor(rawValue: raw)
        setNoDelay(fd)
        guard let peer = SocketAddress(storage: storage) else {
            fd.close()
            return nil
        }
        return (fd, peer)
    }

    /// A blocking client connection to `address` (tests, the CLI's probes, the agent's
    /// loopback HTTP). With `timeoutMilliseconds`, a peer that neither accepts nor refuses
    /// in time (a listener whose backlog is full) fails with ETIMEDOUT instead of holding
    /// the caller for the kernel's minutes of retries.
    public static func connect(_ address: SocketAddress, timeoutMilliseconds: Int64? = nil) throws(Errno) -> FileDescriptor {
        let domain = address.family == .inet ? AF_INET : AF_INET6
        let nonBlocking = timeoutMilliseconds == nil ? 0 : Int32(SOCK_NONBLOCK.rawValue)
        let fd = FileDescriptor(rawValue: try syscall("socket") {
            socket(domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | nonBlocking, 0)
        })
        do throws(Errno) {
            do throws(Errno) {
                _ = try syscall("connect \(address)") { address.withSockaddr { Glibc.connect(fd.rawValue, $0, $1) } }
            } catch where error.code == EINPROGRESS && timeoutMilliseconds != nil {
                let wait = Int32(clamping: max(1, timeoutMilliseconds ?? 0))
                guard try waitFor(fd, .writable, timeoutMilliseconds: wait) else {
                    throw Errno(ETIMEDOUT, operation: "connect \(address)")
                }
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                _ = try syscall("getsockopt(SO_ERROR)") { getsockopt(fd.rawValue, SOL_SOCKET, SO_ERROR, &code, &length) }
                if code != 0 { throw Errno(code, operation: "connect \(address)") }
            }
            if timeoutMilliseconds != nil { try fd.setNonBlocking(false) }
        } catch {
            fd.close()
            throw error
        }
        return fd
    }
}
