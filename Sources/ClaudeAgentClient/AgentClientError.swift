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

    /// An answer the client cannot read (a missing field, a wrong type): the agent broke
    /// the protocol, `protocol_violation`, with the field named.
    static func unexpectedAnswer(_ error: AgentError) -> AgentClientError {
        AgentClientError(.protocolViolation, "unexpected answer from the agent: \(error.message)")
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
