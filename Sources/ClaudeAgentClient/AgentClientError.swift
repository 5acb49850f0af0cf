import AgentProtocol

/// Every failure of the client library: a code to branch on and a sentence to show.
public struct AgentClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Codes: the agent's own error codes (`no_token`, `locked`, ...) plus the client's:
    /// `agent_not_running`, `io`, `protocol_violation`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ code: ErrorCode) { rawValue = code.rawValue }
        public var description: String { rawValue }

        /// No agent answers at the socket (or none is configured).
        public static let agentNotRunning = Code(rawValue: "agent_not_running")
        /// The connection failed or timed out mid-conversation.
        public static let io = Code(rawValue: "io")
        /// The agent's answer was not a well-formed response.
        public static let protocolViolation = Code(rawValue: "protocol_violation")

        public static let badRequest = Code(.badRequest)
        public static let unknownOp = Code(.unknownOp)
        public static let notFound = Code(.notFound)
        public static let noToken = Code(.noToken)
        public static let expired = Code(.expired)
        public static let locked = Code(.locked)
        public static let notLocked = Code(.notLocked)
        public static let denied = Code(.denied)
        public static let timeout = Code(.timeout)
        public static let busy = Code(.busy)
        public static let loginRequired = Code(.loginRequired)
        public static let refreshFailed = Code(.refreshFailed)
        public static let rotationLost = Code(.rotationLost)
        public static let cancelled = Code(.cancelled)
        public static let loginFailed = Code(.loginFailed)
        public static let requestFailed = Code(.requestFailed)
        public static let controlBrowserFailed = Code(.controlBrowserFailed)
        public static let invalidState = Code(.invalidState)
        public static let invalidStatus = Code(.invalidStatus)
        public static let tooManyRequests = Code(.tooManyRequests)
        public static let `internal` = Code(.internal)
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public init(_ error: AgentError) {
        self.init(Code(error.code), error.message)
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
