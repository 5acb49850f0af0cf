/// The protocol version this implementation speaks; `hello` negotiates it.
public let protocolVersion: Int64 = 1

/// One request as read off the wire: `{"id": <int>, "op": "<name>", ...fields}`.
public struct Request: Sendable {
    public var id: Int64
    public var op: String
    /// The whole object, `id` and `op` included; handlers read their fields from it.
    public var body: JSONObject

    public init(id: Int64, op: String, body: JSONObject = JSONObject()) {
        self.id = id
        self.op = op
        var body = body
        body["id"] = .int(id)
        body["op"] = .string(op)
        self.body = body
    }

    /// A request for one of the protocol's operations.
    public init(id: Int64, op: Op, body: JSONObject = JSONObject()) {
        self.init(id: id, op: op.rawValue, body: body)
    }

    /// Decodes a frame's payload. On failure returns the id when it could be read (so the
    /// error answer can name it) or 0.
    public static func decode(_ payload: [UInt8]) -> Result<Request, RequestDecodingError> {
        let value: JSONValue
        do {
            value = try JSONValue.parse(payload)
        } catch {
            return .failure(RequestDecodingError(id: 0, error: AgentError(.badRequest, "request is not valid JSON: \(error)")))
        }
        guard case .object(let body) = value else {
            return .failure(RequestDecodingError(id: 0, error: AgentError(.badRequest, "request must be a JSON object, not \(value.typeName)")))
        }
        guard let idValue = body["id"], case .int(let id) = idValue else {
            let what = body["id"].map { "an integer, not \($0.typeName)" } ?? "present"
            return .failure(RequestDecodingError(id: 0, error: AgentError(.badRequest, "field \"id\" must be \(what)")))
        }
        guard let opValue = body["op"], case .string(let op) = opValue else {
            let what = body["op"].map { "a string, not \($0.typeName)" } ?? "present"
            return .failure(RequestDecodingError(id: id, error: AgentError(.badRequest, "field \"op\" must be \(what)")))
        }
        return .success(Request(id: id, op: op, body: body))
    }

    /// The frame payload for this request.
    public var encoded: [UInt8] { Frame.encode(.object(body)) }
}

public struct RequestDecodingError: Error, Sendable {
    public var id: Int64
    public var error: AgentError
}

/// Builders and readers for `{"id", "ok": true, "result"}` / `{"id", "ok": false, "error"}`.
public enum Response {
    public static func success(id: Int64, _ result: JSONObject) -> JSONValue {
        .object(["id": .int(id), "ok": true, "result": .object(result)])
    }

    /// The frame of `success(id:_:)` around a result serialized beforehand, byte for byte
    /// what `Frame.encode(success(id:result))` gives: a token handed out a thousand times
    /// is serialized once.
    public static func successFrame(id: Int64, serializedResult: [UInt8]) -> [UInt8] {
        var payload: [UInt8] = []
        payload.reserveCapacity(serializedResult.count + 40)
        payload.append(contentsOf: #"{"id":"#.utf8)
        payload.append(contentsOf: String(id).utf8)
        payload.append(contentsOf: #","ok":true,"result":"#.utf8)
        payload.append(contentsOf: serializedResult)
        payload.append(UInt8(ascii: "}"))
        return Frame.encode(payload: payload)
    }

    public static func failure(id: Int64, _ error: AgentError) -> JSONValue {
        .object(["id": .int(id), "ok": false, "error": error.json])
    }

    /// Reads a response payload: the id and either the result or the agent's error.
    /// A payload that is not a well-formed response is reported as `nil`.
    public static func decode(_ payload: [UInt8]) -> (id: Int64, result: Result<JSONObject, AgentError>)? {
        guard case .object(let body)? = try? JSONValue.parse(payload),
              let id = body["id"]?.intValue, let ok = body["ok"]?.boolValue
        else { return nil }
        if ok {
            guard let result = body["result"]?.objectValue else { return nil }
            return (id, .success(result))
        }
        guard let error = body["error"]?.objectValue,
              let code = error["code"]?.stringValue
        else { return nil }
        let message = error["message"]?.stringValue ?? ""
        return (id, .failure(AgentError(ErrorCode(rawValue: code), message)))
    }
}
