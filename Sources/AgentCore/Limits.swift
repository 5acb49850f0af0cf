import AgentProtocol

/// The agent's limits, in one place, as ssh-agent keeps them at the top of ssh-agent.c.
public enum Limits {
    /// Longest frame accepted or sent (AGENT_MAX_LEN in ssh-agent).
    public static let maxFrameLength = Frame.maxLength
    /// Open client connections; one more is answered `busy` and closed. High enough for a
    /// thousand tools asking at once (the agent raises its descriptor limit to match).
    public static let maxConnections = 4096
    /// Descriptors kept for the agent's own use (listener, signals, worker pipe, files).
    public static let reservedDescriptors = 64
    /// A connection with nothing in flight and no bytes for this long is closed (the
    /// default of `--idle-timeout`).
    public static let idleTimeoutMilliseconds: Int64 = 60_000
    /// Unanswered output a client may leave unread before we stop reading its requests.
    public static let maxPendingOutput = 1 << 20
    /// Bytes read per `read` call.
    public static let readChunk = 64 * 1024
    /// Accounts held at once (lookups cost the same however many are held).
    public static let maxAccounts = 16_384
    /// Failed unlocks delay the answer by this much per failure (as ssh-agent), capped.
    public static let unlockFailureDelayMilliseconds: Int64 = 100
    public static let maxUnlockDelayMilliseconds: Int64 = 10_000
    /// Logins started and not yet called back.
    public static let maxPendingLogins = 64
    /// How long a login's state stays valid.
    public static let loginTimeoutMilliseconds: Int64 = 10 * 60 * 1000
    /// A forced refresh (`token.get` with `refresh`) less than this long after the last
    /// refresh of the account ended is answered with that refresh's outcome: a burst of
    /// clients refused at once causes one refresh, not one each.
    public static let forcedRefreshIntervalMilliseconds: Int64 = 5_000
    /// The largest `timeout_ms` a `token.get` may give (an hour, as `request.wait`'s).
    public static let maxRequestTimeoutMilliseconds: Int64 = 3_600_000
    /// How often the agent checks that its socket is still there and its own (gpg-agent
    /// checks its socket about once a minute too).
    public static let socketCheckIntervalMilliseconds: Int64 = 60_000
    /// Longest poll sleep, so the clock-driven sweeps (lifetimes) run at least this often.
    public static let maxPollMilliseconds: Int64 = 1_000
    /// `status` and the log warn this long before a refresh token lapses, so the user logs
    /// in again before tools start failing.
    public static let refreshExpiryWarningSeconds: Int64 = 24 * 60 * 60
    /// How often the agent looks for refresh tokens entering that last day.
    public static let refreshExpiryCheckMilliseconds: Int64 = 60_000
}
