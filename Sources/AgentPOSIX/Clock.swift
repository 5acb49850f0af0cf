import Glibc

/// Time as the agent needs it: a monotonic clock for deadlines and the wall clock for
/// token expiry, which providers state in Unix time.
public enum Clock {
    /// Milliseconds on `CLOCK_MONOTONIC`: for time-outs, unaffected by clock changes.
    public static func monotonicMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Nanoseconds on `CLOCK_MONOTONIC`, for measuring short intervals (the benchmark's
    /// round trips). Allocates nothing, so it may sit inside a timed region.
    @inline(__always)
    public static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Seconds since the Unix epoch on `CLOCK_REALTIME`.
    public static func unixSeconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }

    /// Milliseconds since the Unix epoch on `CLOCK_REALTIME`.
    public static func unixMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Sleeps for `milliseconds`, resuming after signals.
    public static func sleep(milliseconds: Int64) {
        var request = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int((milliseconds % 1000) * 1_000_000))
        var remaining = timespec()
        // Interrupted, it goes on with what remained; any other failure (EINVAL) ends it.
        _ = try? syscall("nanosleep") {
            let result = nanosleep(&request, &remaining)
            if result == -1 { request = remaining }
            return result
        }
    }
}
