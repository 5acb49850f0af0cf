import AgentPOSIX

/// A listening socket the service manager made and passed (systemd's socket activation,
/// `contrib/claude-agent.socket`), used instead of one the agent binds itself.
///
/// The socket file and its directory belong to the service manager: the agent neither
/// checks the directory (the unit's `DirectoryMode=0700` makes it), nor replaces a stale
/// socket, nor removes the file at exit (the next activation needs it). Everything else is
/// the same as for a socket the agent made: the peer-uid check before the first byte, the
/// connection cap, the idle time-out and every frame limit, since connections come through
/// the same `accept` path.
public struct InheritedListener: Sendable {
    public let fd: FileDescriptor
    /// The path the socket is bound to (for `status` and the log).
    public let path: String

    /// The socket passed by the service manager, or nil when this process was not
    /// socket-activated.
    /// - Throws: `ServiceManager.ActivationError` when descriptors were passed but are not
    ///   exactly one Unix-domain stream socket, listening, bound to a path.
    public static func fromServiceManager() throws -> InheritedListener? {
        let descriptors = try ServiceManager.takeListenDescriptors()
        guard let fd = descriptors.first else { return nil }
        guard descriptors.count == 1 else {
            throw ServiceManager.ActivationError(
                description: "\(descriptors.count) sockets passed (LISTEN_FDS); the agent listens on exactly one")
        }
        let isListening: Bool
        let path: String?
        do throws(Errno) {
            isListening = try UnixSocket.isListeningStreamSocket(fd)
            path = try UnixSocket.boundPath(of: fd)
        } catch {
            throw ServiceManager.ActivationError(description: "the passed descriptor is not usable: \(error)")
        }
        guard isListening else {
            throw ServiceManager.ActivationError(
                description: "the passed descriptor is not a listening Unix stream socket (ListenStream= with a path)")
        }
        guard let path else {
            throw ServiceManager.ActivationError(description: "the passed socket is not bound to a path")
        }
        return InheritedListener(fd: fd, path: path)
    }
}
