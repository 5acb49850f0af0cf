/// A stable snake_case code in the bridge's JSON error bodies
/// (`{"error": "<code>", "message": "..."}`), named once here for the parser, the server
/// and the routes; Bridge.md § Errors lists them. Not `ExpressibleByStringLiteral`, so
/// that a retyped string does not compile; `CaseIterable`, so a test holds Bridge.md to it.
public enum HTTPErrorCode: String, CaseIterable, Sendable, CustomStringConvertible {
    public var description: String { rawValue }

    case agentBusy = "agent_busy"
    case agentError = "agent_error"
    case agentTimeout = "agent_timeout"
    case agentUnreachable = "agent_unreachable"
    case badAgentAnswer = "bad_agent_answer"
    case badRequest = "bad_request"
    case busy
    case controlBrowserUnreachable = "control_browser_unreachable"
    case expectationFailed = "expectation_failed"
    case forbiddenHost = "forbidden_host"
    case forbiddenOrigin = "forbidden_origin"
    case headerFieldsTooLarge = "header_fields_too_large"
    case httpVersionNotSupported = "http_version_not_supported"
    case invalidBody = "invalid_body"
    case invalidQuery = "invalid_query"
    case invalidApprovalID = "invalid_request_id"
    case invalidStatus = "invalid_status"
    case invalidStatusForCancel = "invalid_status_for_cancel"
    case invalidStatusForSelect = "invalid_status_for_select"
    case lengthRequired = "length_required"
    case locked
    case methodNotAllowed = "method_not_allowed"
    case missingCode = "missing_code"
    case missingState = "missing_state"
    case notFound = "not_found"
    case notImplemented = "not_implemented"
    case payloadTooLarge = "payload_too_large"
    case requestNotFound = "request_not_found"
    case requestTimeout = "request_timeout"
    case tooManyRequests = "too_many_requests"
    case unauthorized
    case unsupportedMediaType = "unsupported_media_type"
}
