import AgentPOSIX
import Glibc

/// The loopback listeners a login or an approval waits on for the provider's redirect.
///
/// A redirect to `http://localhost:<port>/…` (Claude's registered form) reaches whichever
/// address the browser resolves `localhost` to, 127.0.0.1 or ::1, so that host gets a
/// listener on both, on the same port (RFC 8252 §8.3 warns of exactly this). An IP
/// literal gets its own family only.
struct CallbackListener {
    private(set) var descriptors: [FileDescriptor]
    let port: UInt16

    /// Tries this many free ports for one that is free on both families.
    static let maxAttempts = 8

    /// Listens on `host` (`localhost`, `127.0.0.1` or `[::1]`) at `port` (0: any free
    /// port). For `localhost`, a machine without IPv6 loopback gets 127.0.0.1 alone.
    /// - Throws: the first `Errno` that stopped it.
    static func open(host: String, port: UInt16) throws(Errno) -> CallbackListener {
        let v4 = SocketAddress(family: .inet, address: [127, 0, 0, 1], port: port)
        let v6 = SocketAddress(family: .inet6, address: [UInt8](repeating: 0, count: 15) + [1], port: port)
        switch host {
        case "[::1]": return try single(v6)
        case "127.0.0.1": return try single(v4)
        default: break
        }
        var attempt = 0
        while true {
            attempt += 1
            let first = try TCPSocket.listen(v4)
            let chosen: UInt16
            do throws(Errno) {
                chosen = try TCPSocket.localAddress(of: first).port
            } catch {
                first.close()
                throw error
            }
            do throws(Errno) {
                let second = try TCPSocket.listen(SocketAddress(family: .inet6, address: v6.address, port: chosen))
                return CallbackListener(descriptors: [first, second], port: chosen)
            } catch {
                if error == Errno(EADDRNOTAVAIL) || error == Errno(EAFNOSUPPORT) {
                    return CallbackListener(descriptors: [first], port: chosen)  // no IPv6 loopback here
                }
                first.close()
                // Another program holds ::1 at that port; a fixed port cannot move.
                guard port == 0, attempt < maxAttempts else { throw error }
            }
        }
    }

    private static func single(_ address: SocketAddress) throws(Errno) -> CallbackListener {
        let descriptor = try TCPSocket.listen(address)
        do throws(Errno) {
            return CallbackListener(descriptors: [descriptor], port: try TCPSocket.localAddress(of: descriptor).port)
        } catch {
            descriptor.close()
            throw error
        }
    }

    func close() {
        for descriptor in descriptors { descriptor.close() }
    }
}
