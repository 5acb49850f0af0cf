import AgentProtocol

/// Why the bridge cannot start or serve, as one sentence for the command line.
public struct BridgeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// `usage` for a mistake in the command line, `listen_failed`, else `bridge_failed`;
    /// the command line's exit status follows from it (`ExitCode`).
    public var code: ErrorCode

    /// A mistake in the command line rather than in the world.
    public var isUsage: Bool { code == .usage }

    public init(_ message: String, isUsage: Bool = false) {
        self.init(message, code: isUsage ? .usage : .bridgeFailed)
    }

    public init(_ message: String, code: ErrorCode) {
        self.message = message
        self.code = code
    }

    public var description: String { message }
}
