/// Where a token request is in its life: the `status` of every `request.*` answer
/// (Protocol.md § Approval requests). The agent moves a request through it, the client
/// library decodes it, the CLI and the bridge read it.
///
/// A struct rather than an enum, as `ErrorCode` is, so that a client meets a status a
/// newer agent adds without failing to decode the request: it reads as terminal, as every
/// status but `pending` and `in_progress` is.
public struct ApprovalStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible, CaseIterable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Made, and no account chosen for it yet.
    public static let pending = ApprovalStatus(rawValue: "pending")
    /// An account was selected and its authorization (or refresh) is under way.
    public static let inProgress = ApprovalStatus(rawValue: "in_progress")
    /// Ended with a token for the requester.
    public static let approved = ApprovalStatus(rawValue: "approved")
    /// Ended: a person refused it.
    public static let denied = ApprovalStatus(rawValue: "denied")
    /// Ended: the requester (or its closed connection) withdrew it.
    public static let cancelled = ApprovalStatus(rawValue: "cancelled")
    /// Ended: the authorization or token exchange failed.
    public static let error = ApprovalStatus(rawValue: "error")
    /// Ended: no one approved it in its time.
    public static let expired = ApprovalStatus(rawValue: "expired")

    /// Every status this version knows, in the order of the state machine.
    public static let allCases: [ApprovalStatus] = [.pending, .inProgress, .approved, .denied, .cancelled, .error, .expired]

    /// True once the request has ended: every status but `pending` and `in_progress`
    /// (one this version does not know included).
    public var isTerminal: Bool { self != .pending && self != .inProgress }

    /// The legal transitions, exactly: `pending` → `in_progress` → `approved` | `denied` |
    /// `cancelled` | `error`; a live request may also be decided while `pending` (an
    /// account whose token is held approves at once, a person may deny or cancel, a
    /// failed control browser errs) and expires after its time. `in_progress` may be
    /// re-entered when another account is selected. Terminal states are final.
    public func canMove(to next: ApprovalStatus) -> Bool {
        !isTerminal && Self.allCases.contains(next) && next != .pending
    }

    /// The error code a wait for the token answers when the request ended in this status
    /// other than approved: `denied`, `cancelled`, `timeout` for `expired`, and
    /// `request_failed` for the rest.
    public var failureCode: ErrorCode {
        switch self {
        case .denied: return .denied
        case .cancelled: return .cancelled
        case .expired: return .timeout
        default: return .requestFailed
        }
    }
}
