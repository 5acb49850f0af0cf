import AgentProtocol

/// Follows the pages of a list operation (`account.list`, `request.list`): asks again with
/// each answer's `next_cursor` until it is null, and returns every entry in order.
///
/// An agent that does not page answers without `next_cursor`: one page, all of it.
public enum ListPages {
    /// Pages followed at most: every page holds at least one entry, and no table the agent
    /// keeps has this many, so an agent that keeps answering a cursor is misbehaving.
    public static let maxPages = 65_536

    /// Every entry under `key` across the pages of `op`.
    /// - Parameters:
    ///   - fields: the request's other fields; `cursor` is added for the pages after the first.
    ///   - call: sends one request and returns its result (an `AgentClient` or the bridge's caller).
    /// - Throws: the agent's error, or `protocol_violation` for an answer without the list,
    ///   or a cursor that does not move on.
    public static func collect(_ op: Op, key: String, fields: JSONObject = JSONObject(),
                               call: (Op, JSONObject) throws(AgentClientError) -> JSONObject) throws(AgentClientError) -> [JSONValue] {
        var entries: [JSONValue] = []
        var cursor: String?
        for _ in 0..<maxPages {
            var request = fields
            if let cursor { request["cursor"] = .string(cursor) }
            let result = try call(op, request)
            guard let page = result[key]?.arrayValue else {
                throw AgentClientError(.protocolViolation, "the \(op) answer has no \"\(key)\" array")
            }
            entries += page
            guard let next = result["next_cursor"]?.stringValue else { return entries }
            guard next != cursor, !page.isEmpty else {
                throw AgentClientError(.protocolViolation, "the \(op) answer's next_cursor does not move on")
            }
            cursor = next
        }
        throw AgentClientError(.protocolViolation, "the \(op) answer had more than \(maxPages) pages")
    }
}
