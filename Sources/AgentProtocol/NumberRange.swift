/// The documented ranges of numbers that come from outside (frames, credentials files,
/// token endpoint answers, command lines), in one place, so every door checks the same
/// range and every later sum or product stays far from `Int64`'s ends.
///
/// A number outside its range is refused where it enters: `bad_request` on the socket, a
/// usage error (exit 2) on a command line, a "malformed" answer from a token endpoint, an
/// unreadable credentials file. Arithmetic on times and sizes after the door saturates
/// (`saturatingAdding` and its kin below) rather than trapping, as a second line.
public enum NumberRange {
    /// The longest duration accepted, in seconds: 10 years of 365.25 days.
    public static let maxDurationSeconds: Int64 = 315_576_000
    /// Lifetimes, idle time-outs and other durations that must be positive: 1 s … 10 years.
    public static let durationSeconds: ClosedRange<Int64> = 1...maxDurationSeconds
    /// A token's `expires_in` (RFC 6749 §5.1) and the expiry skew: 0 … 10 years; 0 is an
    /// access token already expired, which some providers answer and which is no fault.
    public static let offsetSeconds: ClosedRange<Int64> = 0...maxDurationSeconds
    /// A wait for a token request (`request.wait`, `token.get` with `wait`, the CLI's
    /// `--timeout`): 1 s … 1 hour.
    public static let waitSeconds: ClosedRange<Int64> = 1...3600
    /// Such a wait when none is given: five minutes, time for a person to see the request
    /// and approve it (or to log in) in a browser.
    public static let defaultWaitSeconds: Int64 = 300
    /// How far from expiry a token counts as expired when `--skew` does not say: a minute,
    /// time for a request that took the token to reach the provider before it lapses.
    public static let defaultExpirySkewSeconds: Int64 = 60
    /// claude-agentd's `--socket-check-interval`, how often it checks that its socket is
    /// still its own: 10 ms … 1 hour. The check is a `stat`, cheap but not free, so not
    /// more often than 100 times a second; tests shorten it from the minute it is by
    /// default, and no one needs it rarer than hourly.
    public static let socketCheckIntervalMilliseconds: ClosedRange<Int64> = 10...3_600_000
    /// `--idle-timeout` when not given: a connection with nothing in flight and no bytes for
    /// a minute is closed.
    public static let defaultIdleTimeoutSeconds: Int64 = 60
    /// The default of `--socket-check-interval`: a minute, as gpg-agent checks its socket.
    public static let defaultSocketCheckIntervalMilliseconds: Int64 = 60_000
    /// `--refresh-timeout` and `refresh_timeout_seconds`, each attempt's time-out at a
    /// token endpoint: 1 s … 10 minutes.
    public static let refreshTimeoutSeconds: ClosedRange<Int64> = 1...600
    /// Such a time-out when none is given: 30 s, as curl-based clients commonly allow a
    /// token endpoint; the agent's callers wait longer than one attempt.
    public static let defaultRefreshTimeoutSeconds: Int64 = 30
    /// `token.get`'s `timeout_ms`, the client's deadline: 1 ms … 1 hour, as a wait.
    public static let requestTimeoutMilliseconds: ClosedRange<Int64> = 1...3_600_000
    /// `account.add`'s `expires_in`: ten years either way; a negative one is a token that
    /// expired that long ago.
    public static let expiresInSeconds: ClosedRange<Int64> = -maxDurationSeconds...maxDurationSeconds
    /// Times in Unix seconds: 1970-01-01T00:00:00Z … 9999-12-31T23:59:59Z, the span
    /// RFC 3339 can write with a four-digit year.
    public static let epochSeconds: ClosedRange<Int64> = 0...253_402_300_799
    /// Process ids (`caller_pid`): what Linux's `pid_t` holds, less 0 and negatives, which
    /// name process groups rather than a process.
    public static let processID: ClosedRange<Int64> = 1...Int64(Int32.max)

    /// "from 1 to 315576000 seconds": the range in words for error messages.
    public static func describe(_ range: ClosedRange<Int64>, unit: String) -> String {
        "from \(range.lowerBound) to \(range.upperBound)\(unit.isEmpty ? "" : " " + unit)"
    }
}

extension JSONObject {
    /// An optional integer field that must lie in `range`: absent or null gives nil; a
    /// number outside it (or one that is not an integer: `1e300`, `9223372036854775808`)
    /// is a `bad_request` naming the field and the range.
    public func optionalInt(_ key: String, in range: ClosedRange<Int64>, unit: String = "") throws(AgentError) -> Int64? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let int = value.intValue, range.contains(int) else {
            throw AgentError(.badRequest, "field \"\(key)\" must be an integer \(NumberRange.describe(range, unit: unit))")
        }
        return int
    }
}

extension Int64 {
    /// `self + other`, or the nearest end of `Int64` when the sum does not fit.
    public func saturatingAdding(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    /// `self - other`, or the nearest end of `Int64` when the difference does not fit.
    public func saturatingSubtracting(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }

    /// `self * other`, or the nearest end of `Int64` when the product does not fit.
    public func saturatingMultiplied(by other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) == (other < 0) ? .max : .min
    }
}
