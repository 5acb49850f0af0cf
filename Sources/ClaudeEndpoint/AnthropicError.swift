import AgentProtocol
import HTTPBridge

/// An error answer in the Anthropic API's own shape, so that an SDK or Claude Code shows
/// its message instead of failing to parse ours:
/// `{"type":"error","error":{"type":"authentication_error","message":"..."}}`.
///
/// The `type` values are the API's documented error types ("Errors" in the Anthropic API
/// reference): `invalid_request_error` (400), `authentication_error` (401),
/// `permission_error` (403), `not_found_error` (404), `request_too_large` (413),
/// `api_error` (500), `overloaded_error` (529). We add none of our own: a client branches
/// on these.
public enum AnthropicError {
    /// The API's error type for an HTTP status the endpoint answers itself.
    public static func type(forStatus status: Int) -> String {
        switch status {
        case 400, 405, 411, 417, 431, 505: return "invalid_request_error"
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 404: return "not_found_error"
        case 413: return "request_too_large"
        default: return "api_error"
        }
    }

    /// The whole answer; `message` is for people and says what to do.
    public static func response(_ status: Int, _ message: String, type: String? = nil) -> HTTPResponse {
        let body: JSONValue = .object([
            "type": .string("error"),
            "error": .object(["type": .string(type ?? Self.type(forStatus: status)), "message": .string(message)]),
        ])
        return HTTPResponse.json(status, body)
    }
}
