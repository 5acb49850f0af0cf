import AgentProtocol

/// The agent's answer to `hello`.
public struct AgentHello: Equatable, Sendable {
    public var protocolVersion: Int64
    public var version: String
    public var ops: [String]

    init(_ json: JSONObject) {
        protocolVersion = json["protocol"]?.intValue ?? 0
        version = json["version"]?.stringValue ?? ""
        ops = json["ops"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}

/// The agent's answer to `status`. Times are Unix seconds.
public struct AgentStatus: Equatable, Sendable {
    public var pid: Int32
    public var version: String
    public var startedAt: Int64
    public var uptimeSeconds: Int64
    public var socket: String
    public var locked: Bool
    public var accounts: Int
    public var connections: Int
    /// The whole answer, for fields later versions add.
    public var json: JSONObject

    /// Reads `status`'s result (Protocol.md § `status`). `pid`, `version` and `socket` are
    /// required; the rest default (0, false) when an older agent leaves them out.
    /// - Throws: `AgentClientError` with code `protocol_violation` when a required field
    ///   is missing or a field has the wrong type, naming the field.
    public init(json: JSONObject) throws(AgentClientError) {
        do throws(AgentError) {
            pid = Int32(clamping: try json.int("pid"))
            version = try json.string("version")
            startedAt = try json.optionalString("started_at").flatMap(RFC3339.parse) ?? 0
            uptimeSeconds = try json.optionalInt("uptime_seconds") ?? 0
            socket = try json.string("socket")
            locked = try json.optionalBool("locked") ?? false
            accounts = Int(try json.optionalInt("accounts") ?? 0)
            connections = Int(try json.optionalInt("connections") ?? 0)
        } catch {
            throw .unexpectedAnswer(error)
        }
        self.json = json
    }
}
