import AgentCrypto
import AgentProtocol

// The wire between the agent and `claude-agent-fetch`, the helper that makes its HTTP
// exchanges: one JSON object each way over the helper's standard input and output.
//
// Request (agent to helper, then end of file):
//
//     {"method": "POST", "url": "https://…", "headers": {"Accept": "application/json", …},
//      "body": "<base64>", "timeout_ms": 10000, "follow_redirects": false}
//
// `timeout_ms` is the exchange's time-out in milliseconds, an integer from 1 to 3600000
// (`HTTPExchange.maximumTimeoutMilliseconds`); anything else is refused.
//
// Answer (helper to agent, then the helper exits 0), exactly one of:
//
//     {"status": 200, "body": "<base64>"}   an HTTP answer, whatever its status
//     {"unsent": "connection refused"}      no answer; the request never left (it may
//                                           be sent again)
//     {"error": "timed out after 30 s"}     no answer; the request may have arrived
//     {"refused": "…"}                      the helper could not send this request
//                                           (it cannot read it, or the URL will not parse)
//
// Bodies are base64 (RFC 4648 §4) because an answer may be any bytes. Secrets (codes,
// verifiers, refresh tokens, tokens granted) travel only here, never in arguments or
// the environment. The agent and the helper are installed together, so there is no
// version negotiation. Any other exit, or output that is not one such answer, is the
// helper failing.

/// A request or answer on the helper wire that cannot be read. The message names what is
/// wrong, never a value: the bytes may hold secrets.
public struct HTTPWireError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension HTTPExchange {
    /// The most bytes either side accepts as one message: a maximal body in base64 plus
    /// room for the URL and headers.
    public static let maximumWireBytes = maximumBodyBytes / 3 * 4 + 64 * 1024
    /// The request as the helper reads it.
    public func wireEncoded() -> [UInt8] {
        JSONValue.object([
            "method": .string(method),
            "url": .string(url),
            "headers": .object(JSONObject(headers.map { ($0.name, JSONValue.string($0.value)) })),
            "body": .string(Base64.encode(body)),
            "timeout_ms": .int(boundedTimeoutMilliseconds),
            "follow_redirects": .bool(followsRedirects),
        ]).serialized()
    }

    /// Reads a request written by `wireEncoded()`.
    public init(wire bytes: [UInt8]) throws(HTTPWireError) {
        let object = try wireObject(bytes, "request")
        guard let method = object["method"]?.stringValue, !method.isEmpty else { throw HTTPWireError("the request has no method") }
        guard let url = object["url"]?.stringValue else { throw HTTPWireError("the request has no url") }
        guard let headerObject = object["headers"]?.objectValue else { throw HTTPWireError("the request has no headers object") }
        var headers: [Header] = []
        for (name, value) in headerObject {
            guard let text = value.stringValue else { throw HTTPWireError("a request header is not a string") }
            headers.append(Header(name, text))
        }
        let body = try wireBody(object, "request")
        // Checked at the door: the helper hands it to URLSession and its own deadline.
        guard let timeout = object["timeout_ms"]?.intValue, Self.timeoutRange.contains(timeout) else {
            throw HTTPWireError("the request's timeout_ms is not an integer \(NumberRange.describe(Self.timeoutRange, unit: "milliseconds"))")
        }
        guard let follows = object["follow_redirects"]?.boolValue else {
            throw HTTPWireError("the request has no follow_redirects boolean")
        }
        self.init(method: method, url: url, headers: headers, body: body, timeoutMilliseconds: timeout, followsRedirects: follows)
    }

    /// What `timeout_ms` may be on the wire.
    static let timeoutRange: ClosedRange<Int64> = 1...maximumTimeoutMilliseconds
}

extension HTTPOutcome {
    /// The answer as the agent reads it.
    public func wireEncoded() -> [UInt8] {
        let object: JSONObject
        switch self {
        case .answered(let status, let body): object = ["status": .int(Int64(status)), "body": .string(Base64.encode(body))]
        case .failed(let reason): object = ["error": .string(reason)]
        case .notSent(let reason): object = ["unsent": .string(reason)]
        case .transportFailed(let reason): object = ["refused": .string(reason)]
        }
        return JSONValue.object(object).serialized()
    }

    /// Reads an answer written by `wireEncoded()`.
    public init(wire bytes: [UInt8]) throws(HTTPWireError) {
        let object = try wireObject(bytes, "answer")
        if let status = object["status"] {
            guard let code = status.intValue, (100...999).contains(code) else { throw HTTPWireError("the answer's status is not an HTTP status") }
            self = .answered(status: Int(code), body: try wireBody(object, "answer"))
        } else if let reason = object["unsent"]?.stringValue {
            self = .notSent(reason)
        } else if let reason = object["error"]?.stringValue {
            self = .failed(reason)
        } else if let reason = object["refused"]?.stringValue {
            self = .transportFailed(reason)
        } else {
            throw HTTPWireError("the answer has neither a status, an error nor a refusal")
        }
    }
}

private func wireObject(_ bytes: [UInt8], _ what: String) throws(HTTPWireError) -> JSONObject {
    guard bytes.count <= HTTPExchange.maximumWireBytes else { throw HTTPWireError("the \(what) is too long") }
    let document: JSONValue
    do throws(JSONError) {
        document = try JSONValue.parse(bytes)
    } catch {
        throw HTTPWireError("the \(what) is not JSON")
    }
    guard let object = document.objectValue else { throw HTTPWireError("the \(what) is not a JSON object") }
    return object
}

private func wireBody(_ object: JSONObject, _ what: String) throws(HTTPWireError) -> [UInt8] {
    guard let text = object["body"]?.stringValue, let body = Base64.decode(text) else {
        throw HTTPWireError("the \(what)'s body is not base64")
    }
    guard body.count <= HTTPExchange.maximumBodyBytes else { throw HTTPWireError("the \(what)'s body is too long") }
    return body
}
