import AgentProtocol

/// Every failure of the client library: a code to branch on and a sentence to show.
public struct AgentClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The agent's own error codes (Protocol.md § Error codes: `no_token`, `locked`, ...)
    /// and the client's, declared below: `agent_not_running`, `io`, `protocol_violation`.
    /// One type, so a code the agent adds reaches every client without a retyped list.
    public typealias Code = ErrorCode

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public init(_ error: AgentError) {
        self.init(error.code, error.message)
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// The codes only a client can produce: the agent never sends them.
extension ErrorCode {
    /// No agent answers at the socket (or none is configured).
    public static let agentNotRunning = ErrorCode(rawValue: "agent_not_running")
    /// The connection failed or timed out mid-conversation.
    public static let io = ErrorCode(rawValue: "io")
    /// The agent's answer was not a well-formed response.
    public static let protocolViolation = ErrorCode(rawValue: "protocol_violation")
}
