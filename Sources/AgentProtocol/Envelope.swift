/// The protocol version this implementation speaks; `hello` negotiates it.
public let protocolVersion: Int64 = 1

/// One request as read off the wire: `{"id": <int>, "op": "<name>", ...fields}`.
public struct Request: Sendable {
    /// The RPC id (the wire's `"id"`): the client's number for this request, echoed in the
    /// response; not a token request's (approval's) id.
    public var rpcID: Int64
    public var op: String
    /// The whole object, `id` and `op` included; handlers read their fields from it.
    public var body: JSONObject

    public init(rpcID: Int64, op: String, body: JSONObject = JSONObject()) {
        self.rpcID = rpcID
        self.op = op
        var body = body
        body["id"] = .int(rpcID)
        body["op"] = .string(op)
        self.body = body
    }

    /// A request for one of the protocol's operations.
    public init(rpcID: Int64, op: Op, body: JSONObject = JSONObject()) {
        self.init(rpcID: rpcID, op: op.rawValue, body: body)
    }

    /// Decodes a frame's payload. On failure returns the RPC id when it could be read (so the
    /// error answer can name it) or 0.
    public static func decode(_ payload: [UInt8]) -> Result<Request, RequestDecodingError> {
        let value: JSONValue
        do {
            value = try JSONValue.parse(payload)
        } catch {
            return .failure(RequestDecodingError(rpcID: 0, error: AgentError(.badRequest, "request is not valid JSON: \(error)")))
        }
        guard case .object(let body) = value else {
            return .failure(RequestDecodingError(rpcID: 0, error: AgentError(.badRequest, "request must be a JSON object, not \(value.typeName)")))
        }
        guard let idValue = body["id"], case .int(let rpcID) = idValue else {
            let what = body["id"].map { "an integer, not \($0.typeName)" } ?? "present"
            return .failure(RequestDecodingError(rpcID: 0, error: AgentError(.badRequest, "field \"id\" must be \(what)")))
        }
        guard let opValue = body["op"], case .string(let op) = opValue else {
            let what = body["op"].map { "a string, not \($0.typeName)" } ?? "present"
            return .failure(RequestDecodingError(rpcID: rpcID, error: AgentError(.badRequest, "field \"op\" must be \(what)")))
        }
        return .success(Request(rpcID: rpcID, op: op, body: body))
    }

    /// The frame payload for this request.
    public var encoded: [UInt8] { Frame.encode(.object(body)) }
}

public struct RequestDecodingError: Error, Sendable {
    /// The request's RPC id, or 0 when it could not be read.
    public var rpcID: Int64
    public var error: AgentError
}

/// Builders and readers for `{"id", "ok": true, "result"}` / `{"id", "ok": false, "error"}`.
public enum Response {
    public static func success(rpcID: Int64, _ result: JSONObject) -> JSONValue {
        .object(["id": .int(rpcID), "ok": true, "result": .object(result)])
    }

    /// The frame of `success(rpcID:_:)` around a result serialized beforehand, byte for byte
    /// what `Frame.encode(success(rpcID:result))` gives: a token handed out a thousand times
    /// is serialized once.
    public static func successFrame(rpcID: Int64, serializedResult: [UInt8]) -> [UInt8] {
        var payload: [UInt8] = []
        payload.reserveCapacity(serializedResult.count + 40)
        payload.append(contentsOf: #"{"id":"#.utf8)
        payload.append(contentsOf: String(rpcID).utf8)
        payload.append(contentsOf: #","ok":true,"result":"#.utf8)
        payload.append(contentsOf: serializedResult)
        payload.append(UInt8(ascii: "}"))
        return Frame.encode(payload: payload)
    }

    public static func failure(rpcID: Int64, _ error: AgentError) -> JSONValue {
        .object(["id": .int(rpcID), "ok": false, "error": error.json])
    }

    /// Reads a response payload: the RPC id and either the result or the agent's error.
    /// A payload that is not a well-formed response is reported as `nil`.
    public static func decode(_ payload: [UInt8]) -> (rpcID: Int64, result: Result<JSONObject, AgentError>)? {
        guard case .object(let body)? = try? JSONValue.parse(payload),
              let rpcID = body["id"]?.intValue, let ok = body["ok"]?.boolValue
        else { return nil }
        if ok {
            guard let result = body["result"]?.objectValue else { return nil }
            return (rpcID, .success(result))
        }
        guard let error = body["error"]?.objectValue,
              let code = error["code"]?.stringValue
        else { return nil }
        let message = error["message"]?.stringValue ?? ""
        return (rpcID, .failure(AgentError(ErrorCode(rawValue: code), message)))
    }
}
