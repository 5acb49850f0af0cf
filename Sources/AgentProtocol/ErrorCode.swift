/// A stable, snake_case error code carried in every failed response.
///
/// A struct rather than an enum so codes can be added without breaking clients that
/// switch over the ones they know.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// The request was malformed: not JSON, a missing or mistyped field.
    public static let badRequest = ErrorCode(rawValue: "bad_request")
    /// The `op` is not one this agent knows.
    public static let unknownOp = ErrorCode(rawValue: "unknown_op")
    /// The client asked for a protocol version this agent does not speak.
    public static let unsupportedVersion = ErrorCode(rawValue: "unsupported_version")
    /// The named account (or request) does not exist.
    public static let notFound = ErrorCode(rawValue: "not_found")
    /// No token held covers the requested scopes (for that account).
    public static let noToken = ErrorCode(rawValue: "no_token")
    /// A covering token is held but expired, and cannot be refreshed.
    public static let expired = ErrorCode(rawValue: "expired")
    /// The agent is locked: no token is handed out until `agent.unlock`.
    public static let locked = ErrorCode(rawValue: "locked")
    /// `agent.unlock` on an agent that is not locked.
    public static let notLocked = ErrorCode(rawValue: "not_locked")
    /// Refused: a wrong passphrase, or a person denied the request.
    public static let denied = ErrorCode(rawValue: "denied")
    /// A wait ran out before an answer.
    public static let timeout = ErrorCode(rawValue: "timeout")
    /// The agent is at its connection limit; try again.
    public static let busy = ErrorCode(rawValue: "busy")
    /// The account's refresh token is dead (revoked, rotated away): log in again.
    public static let loginRequired = ErrorCode(rawValue: "login_required")
    /// A refresh token whose request may have reached the provider without its answer
    /// reaching us was then rejected: the provider rotated it and the new one was lost.
    /// The account must log in again.
    public static let rotationLost = ErrorCode(rawValue: "rotation_lost")
    /// A refresh failed for a transient reason (network, provider 5xx); retrying may work.
    public static let refreshFailed = ErrorCode(rawValue: "refresh_failed")
    /// A login's code exchange failed, or the provider refused it for a reason other than
    /// the user's denial.
    public static let loginFailed = ErrorCode(rawValue: "login_failed")
    /// `oauth.callback` with a state no login or request is waiting for (unknown, already
    /// used, or expired).
    public static let invalidState = ErrorCode(rawValue: "invalid_state")
    /// A token request ended in `error` (its message says why).
    public static let requestFailed = ErrorCode(rawValue: "request_failed")
    /// The control browser answered non-2xx or could not be reached; the request is now `error`.
    public static let controlBrowserFailed = ErrorCode(rawValue: "control_browser_failed")
    /// The request was cancelled.
    public static let cancelled = ErrorCode(rawValue: "cancelled")
    /// A request is not in a state that allows that transition.
    public static let invalidStatus = ErrorCode(rawValue: "invalid_status")
    /// Too many live requests (in all, or from this caller).
    public static let tooManyRequests = ErrorCode(rawValue: "too_many_requests")
    /// A bug or an unexpected system failure in the agent.
    public static let `internal` = ErrorCode(rawValue: "internal")

    // Codes the programs report themselves; they never come from the agent.

    /// No agent answers at the socket (or none is configured).
    public static let agentNotRunning = ErrorCode(rawValue: "agent_not_running")
    /// The connection to the agent failed mid-conversation.
    public static let io = ErrorCode(rawValue: "io")
    /// The agent's answer was not a well-formed response.
    public static let protocolViolation = ErrorCode(rawValue: "protocol_violation")
    /// A bad command line: an unknown, missing, inert or contradictory argument.
    public static let usage = ErrorCode(rawValue: "usage")
    /// The configuration file or an environment override is wrong (it names the key).
    public static let badConfiguration = ErrorCode(rawValue: "bad_configuration")
    /// A loopback listener (the login or approval callback) could not be opened.
    public static let listenFailed = ErrorCode(rawValue: "listen_failed")
    /// The HTTP bridge could not start or serve.
    public static let bridgeFailed = ErrorCode(rawValue: "bridge_failed")
    /// The agent could not be started.
    public static let startFailed = ErrorCode(rawValue: "start_failed")
    /// `exec`'s COMMAND was not found (exit 127, as the shells).
    public static let commandNotFound = ErrorCode(rawValue: "command_not_found")
    /// `exec`'s COMMAND was found but could not be run (exit 126, as the shells).
    public static let commandNotExecutable = ErrorCode(rawValue: "command_not_executable")
}

/// An error the agent reports to a client: a stable code and a human sentence.
/// The message never contains a token; at most a fingerprint.
public struct AgentError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public var json: JSONValue {
        .object(["code": .string(code.rawValue), "message": .string(message)])
    }
}
