import Foundation

extension TimeInterval {
    /// `milliseconds` as Foundation's seconds, for URLSession's time-outs: the package
    /// counts time in `Int64` milliseconds, Foundation in `Double` seconds. Exact for every
    /// time-out below 2^53 ms; any `Int64` converts (to the nearest `Double`) without
    /// trapping.
    public init(milliseconds: Int64) {
        self = Double(milliseconds) / 1000
    }
}
