import AgentProtocol
import ClaudeAgentClient

/// One agent operation per call: what the routes need from the agent, so tests can stand
/// in for it.
public protocol AgentCalling {
    /// Sends `op` with `fields` and returns the agent's `result`, or throws its error.
    func call(_ op: Op, _ fields: JSONObject) throws(AgentClientError) -> JSONObject
}

/// The real agent, reached at its socket with a new connection for every call.
///
/// A connection per call costs a few microseconds on a Unix socket and makes the bridge
/// indifferent to the agent's restarts and to its idle time-out: there is no connection
/// to go stale, and the bridge keeps no state to lose.
public struct AgentSocketCaller: AgentCalling {
    public let socketPath: String
    /// How long one call may take. Selecting an account waits for the control browser and
    /// a callback for the token exchange, so this is generous.
    public var timeoutMilliseconds: Int64

    public init(socketPath: String, timeoutMilliseconds: Int64 = AgentClient.defaultTimeoutMilliseconds) {
        self.socketPath = socketPath
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    public func call(_ op: Op, _ fields: JSONObject) throws(AgentClientError) -> JSONObject {
        let client = AgentClient(socketPath: socketPath, timeoutMilliseconds: timeoutMilliseconds)
        defer { client.close() }
        return try client.call(op, fields)
    }
}
