import Glibc

extension FileDescriptor {
    /// Which direction of a connected socket `shutdown(_:)` ends.
    public enum ShutdownDirection: Sendable {
        case read, write, both

        var rawValue: Int32 {
            switch self {
            case .read: return Int32(SHUT_RD)
            case .write: return Int32(SHUT_WR)
            case .both: return Int32(SHUT_RDWR)
            }
        }
    }

    /// Ends one direction of a connected socket. An HTTP server that closes after an
    /// error answer shuts down writing first and drains what the client still sends:
    /// closing a socket with unread input makes the kernel send a reset, which can
    /// destroy the answer before the client reads it.
    /// The corresponding C function is `shutdown`.
    public func shutdown(_ direction: ShutdownDirection) throws(Errno) {
        _ = try syscall("shutdown") { Glibc.shutdown(rawValue, direction.rawValue) }
    }
}
