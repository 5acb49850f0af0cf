import AgentPOSIX

/// Where the agent reads the time. The daemon uses `SystemClock`; tests pass a clock they
/// advance by hand, so lifetimes, delays and time-outs are checked without waiting.
public protocol AgentClock: Sendable {
    /// Seconds since the Unix epoch: token expiry and lifetimes, which providers and
    /// clients state in Unix time.
    func unixSeconds() -> Int64
    /// Milliseconds on a monotonic clock: deadlines, delays and time-outs, unaffected by
    /// changes to the wall clock.
    func monotonicMilliseconds() -> Int64
}

/// The machine's clocks (`CLOCK_REALTIME`, `CLOCK_MONOTONIC`).
public struct SystemClock: AgentClock {
    public init() {}
    public func unixSeconds() -> Int64 { Clock.unixSeconds() }
    public func monotonicMilliseconds() -> Int64 { Clock.monotonicMilliseconds() }
}
