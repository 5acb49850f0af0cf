/// Why the bridge cannot start or serve, as one sentence for the command line.
public struct BridgeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// A mistake in the command line (exit 2) rather than in the world.
    public var isUsage: Bool

    public init(_ message: String, isUsage: Bool = false) {
        self.message = message
        self.isUsage = isUsage
    }

    public var description: String { message }
}
