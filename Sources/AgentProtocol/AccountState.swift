/// How an account stands: the `state` of `account.list` entries and of `status`'s
/// `account_states` (Protocol.md § Refresh). The states an account cannot get a token in
/// are named by the error code `token.get` answers for it, so the two never disagree.
///
/// A struct, as `ErrorCode` is: a client keeps a state a newer agent adds, and `error`
/// carries the reason the last refresh failed.
public struct AccountState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// A token is held and valid, or can be refreshed.
    public static let ok = AccountState(rawValue: "ok")
    /// A refresh is in flight.
    public static let refreshing = AccountState(rawValue: "refreshing")
    /// No token is held: the account must log in.
    public static let loginRequired = AccountState(rawValue: ErrorCode.loginRequired.rawValue)
    /// A refresh token whose request may have reached the provider was lost: the account
    /// must log in again.
    public static let rotationLost = AccountState(rawValue: ErrorCode.rotationLost.rawValue)
    /// The token expired and cannot be refreshed.
    public static let expired = AccountState(rawValue: ErrorCode.expired.rawValue)

    /// The last refresh failed: `error: <reason>`.
    public static func error(_ reason: some StringProtocol) -> AccountState {
        AccountState(rawValue: "error: \(reason)")
    }
}
