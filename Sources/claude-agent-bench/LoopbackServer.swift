import AgentPOSIX
import Foundation

/// A blocking TCP listener on 127.0.0.1 under the benchmark's peers (a token endpoint, the
/// control browser, a Messages upstream): a thread per connection, each given a blocking
/// socket with `TCP_NODELAY` and closing it when the peer's `serve` returns.
struct LoopbackServer: Sendable {
    let port: UInt16
    private let listener: FileDescriptor

    /// Listens on a free loopback port.
    /// - Throws: `BenchError` when no loopback port can be had.
    init() throws {
        guard let any = SocketAddress(parsing: "127.0.0.1:0") else { throw BenchError("no loopback address") }
        do throws(Errno) {
            listener = try TCPSocket.listen(any, backlog: 1024)
            try listener.setNonBlocking(false)
            port = try TCPSocket.localAddress(of: listener).port
        } catch {
            throw BenchError("cannot listen on loopback: \(error)")
        }
    }

    /// Accepts connections until the process ends, each served on its own thread.
    func accept(_ serve: @escaping @Sendable (FileDescriptor) -> Void) {
        let thread = Thread { [listener] in
            while true {
                let accepted: (FileDescriptor, SocketAddress)?
                do throws(Errno) { accepted = try TCPSocket.accept(listener) } catch { return }
                // nil: the client gave up before it was accepted.
                guard let (fd, _) = accepted else { continue }
                let connection = Thread {
                    defer { fd.close() }
                    do throws(Errno) { try fd.setNonBlocking(false) } catch { return }
                    serve(fd)
                }
                connection.stackSize = 256 * 1024
                connection.start()
            }
        }
        thread.start()
    }
}
