import AgentProtocol

/// Requests to claude-agent outside the timed loops: setting up accounts and requests,
/// and checking answers in full.
struct AgentCalls {
    let connection: BlockingConnection

    init(_ socket: String) throws { connection = try BlockingConnection.open(socket) }

    func close() { connection.close() }

    /// One request and its whole answer; throws when the agent answers an error.
    @discardableResult
    func call(_ payload: String) throws -> JSONObject {
        try pipeline([payload])[0]
    }

    /// Sends the payloads in batches without waiting between them, then reads the
    /// answers: how a busy client sets up ten thousand accounts in a second. Batches
    /// keep the unread answers under the agent's output limit.
    func pipeline(_ payloads: [String], batch: Int = 256) throws -> [JSONObject] {
        var results: [JSONObject] = []
        results.reserveCapacity(payloads.count)
        var buffer = [UInt8](repeating: 0, count: 65536)
        var start = 0
        while start < payloads.count {
            let end = min(payloads.count, start + batch)
            var bytes: [UInt8] = []
            for payload in payloads[start..<end] { bytes += Exchange.frame(payload) }
            try connection.writeAll(bytes)
            for index in start..<end {
                let length = try connection.readMessage(into: &buffer)
                let answer: JSONValue
                do { answer = try JSONValue.parse(Array(buffer[0..<length])) } catch { throw BenchError("an answer that is not JSON: \(error)") }
                guard let object = answer.objectValue, object["ok"]?.boolValue == true, let result = object["result"]?.objectValue else {
                    throw BenchError("\(payloads[index].prefix(80)) was answered \(answer.jsonText.prefix(300))")
                }
                results.append(result)
            }
            start = end
        }
        return results
    }
}

/// A JSON string literal for a value the benchmark made up (names, tokens: no escapes needed).
func quoted(_ text: String) -> String { "\"" + text + "\"" }

/// The `account.add` payload for a benchmark account with a day-long token.
func addAccountPayload(_ name: String, token: String, extra: String = "") -> String {
    #"{"id":1,"op":"\#(Op.accountAdd)","account":"\#(name)","access_token":"\#(token)","expires_in":86400,"scope":"user:inference user:profile"\#(extra)}"#
}

/// A token-like string of about the length of Claude's (`sk-ant-oat01-` and 95 more).
func fakeToken(_ index: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    return "sk-ant-oat01-bench\(index)-" + String((0..<80).map { _ in alphabet[Int(generator.next() % 64)] })
}
