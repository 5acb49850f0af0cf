import AgentPOSIX
import AgentProtocol

/// The agent's limits, in one place, as ssh-agent keeps them at the top of ssh-agent.c.
public enum Limits {
    /// Longest frame accepted or sent (AGENT_MAX_LEN in ssh-agent).
    public static let maxFrameBytes = Frame.maxPayloadBytes
    /// Open client connections; one more is answered `busy` and closed. High enough for a
    /// thousand tools asking at once (the agent raises its descriptor limit to match).
    public static let maxConnections = 4096
    /// Descriptors kept for the agent's own use (listener, signals, worker pipe, files).
    public static let reservedDescriptors = 64
    /// A connection with nothing in flight and no bytes for this long is closed (the
    /// default of `--idle-timeout`).
    public static let idleTimeoutMilliseconds = NumberRange.defaultIdleTimeoutSeconds * 1000
    /// Unanswered output a client may leave unread before we stop reading its requests,
    /// in bytes.
    public static let maxPendingOutputBytes = POSIXLimits.maxPendingOutputBytes
    /// Bytes read per `read` call.
    public static let readChunkBytes = POSIXLimits.readChunkBytes
    /// The most entries one page of `account.list` or `request.list` holds (and the
    /// default `limit`).
    public static let maxPageEntries = 1000
    /// The most bytes the entries of one page take, serialized; with the envelope the
    /// answer stays below `maxFrameBytes`. The largest entry (every capped field full)
    /// is a few tens of KiB, so a page always holds at least one.
    public static let pageBudgetBytes = 192 * 1024
    /// `status` lists the states of at most this many accounts (the lowest ids), so its
    /// answer does not grow with the table; `account.list` pages through all of them.
    public static let maxStatusAccountStates = 64
    /// The most bytes of input and output buffered across all connections. Past it, a
    /// connection holding part of a frame or unread answers is not read, and the
    /// connections holding the most are closed until the total is back under it, so
    /// thousands of clients each holding a partial 256 KiB frame cannot take the agent's
    /// memory with them.
    public static let maxBufferedBytes = 64 << 20
    /// Accounts held at once (lookups cost the same however many are held).
    public static let maxAccounts = 16_384
    /// Failed unlocks delay the answer by this much per failure (as ssh-agent), capped at
    /// `maxUnlockDelayMilliseconds`.
    public static let unlockFailureDelayMilliseconds: Int64 = 100
    /// The longest delay failed unlocks add: guessing stays slow (a hundred failures in,
    /// each costs ten seconds), yet the owner who mistyped is never locked out for long.
    public static let maxUnlockDelayMilliseconds: Int64 = 10_000
    /// Logins started and not yet called back.
    public static let maxPendingLogins = 64
    /// How long a login's state stays valid.
    public static let loginTimeoutMilliseconds: Int64 = 10 * 60 * 1000
    /// A forced refresh (`token.get` with `refresh`) less than this long after the last
    /// refresh of the account ended is answered with that refresh's outcome: a burst of
    /// clients refused at once causes one refresh, not one each.
    public static let forcedRefreshIntervalMilliseconds: Int64 = 5_000
    /// How often the agent checks that its socket is still there and its own (gpg-agent
    /// checks its socket about once a minute too).
    public static let socketCheckIntervalMilliseconds = NumberRange.defaultSocketCheckIntervalMilliseconds
    /// Longest poll sleep, so the clock-driven sweeps (lifetimes) run at least this often.
    public static let maxPollMilliseconds: Int64 = 1_000
    /// `status` and the log warn this long before a refresh token lapses, so the user logs
    /// in again before tools start failing.
    public static let refreshExpiryWarningSeconds: Int64 = 24 * 60 * 60
    /// A background refresh (`--refresh-ahead`) that failed is tried again this long after.
    public static let refreshAheadRetrySeconds: Int64 = 30
    /// A `token.get` with `timeout_ms` is answered this much before the client's deadline
    /// (or a tenth of the time-out, when that is less), so the answer arrives in time.
    public static let tokenDeadlineMarginMilliseconds: Int64 = 500
    /// `request.wait`'s time-out when the request gives none.
    public static let defaultWaitSeconds = NumberRange.defaultWaitSeconds
    /// How often the agent looks for refresh tokens entering that last day.
    public static let refreshExpiryCheckMilliseconds: Int64 = 60_000
    /// How often the agent looks for tokens due a background refresh (`--refresh-ahead`):
    /// due times are whole seconds, so once a second finds each one as it falls due.
    public static let refreshAheadCheckMilliseconds: Int64 = 1_000
    /// The longest `client_name` or `hostname` a token request may carry, in bytes: a
    /// program's or a machine's name (a DNS name is at most 253), shown on one line of
    /// `claude-agent requests` and the approval page.
    public static let maxClientNameBytes = 256
    /// The longest `reason` a `request.deny` may give, in bytes: no more than a request's
    /// `error` repeats (`ApprovalRequest.maxErrorBytes`), so the reason is shown whole.
    public static let maxDenyReasonBytes = ApprovalRequest.maxErrorBytes
    /// The most bytes read of a caller's `/proc/<pid>/cmdline` or `/proc/<pid>/status`:
    /// `status` is a few KiB; a longer command line is not read at all (the request shows
    /// none), so a caller cannot make the agent read megabytes per request.
    public static let maxCallerFileBytes = 64 * 1024
    /// The most bytes of a caller's command line a request keeps to show (`caller.command_line`):
    /// enough to tell one tool's invocation from another, on one line of a listing.
    public static let maxCallerCommandLineBytes = 1024
}
