/// One HTTP request as plain values, so the OAuth module can build it without Foundation
/// and hand it to whatever sends it.
public struct HTTPExchange: Equatable, Sendable {
    /// `GET` or `POST`.
    public var method: String
    /// An absolute `http://` or `https://` URL.
    public var url: String
    /// Sent as given, in this order; the sender adds what HTTP itself needs (Host,
    /// Content-Length) and may add its own defaults (User-Agent, Accept-Encoding).
    public var headers: [Header]
    public var body: [UInt8]
    /// For the whole exchange, connection to last byte, in milliseconds. Senders use
    /// `boundedTimeoutMilliseconds`, so any value is safe to give.
    public var timeoutMilliseconds: Int64
    /// When false a 3xx is the answer: a token endpoint has no reason to redirect, and
    /// following one would send a code or refresh token to wherever it pointed.
    public var followsRedirects: Bool

    public struct Header: Equatable, Sendable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(method: String, url: String, headers: [Header] = [], body: [UInt8] = [],
                timeoutMilliseconds: Int64, followsRedirects: Bool = false) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMilliseconds = timeoutMilliseconds
        self.followsRedirects = followsRedirects
    }

    /// The largest body either way. Token endpoint answers are a few hundred bytes; a
    /// megabyte is an endpoint gone wrong, and refusing it bounds what the agent holds.
    public static let maximumBodyBytes = 1 << 20

    /// The longest time-out one exchange may have, in milliseconds: an hour, far beyond
    /// any token endpoint's answer, and short enough that every sum on it fits anywhere.
    public static let maximumTimeoutMilliseconds: Int64 = 3_600_000

    /// The time-out every sender applies: `timeoutMilliseconds` brought into 1 ms …
    /// `maximumTimeoutMilliseconds`. A time-out of zero or less has already run out (so
    /// the shortest wait, rather than none or an endless one), and a longer one than the
    /// maximum is a caller's mistake that must not become a wait of days.
    public var boundedTimeoutMilliseconds: Int64 {
        min(max(timeoutMilliseconds, 1), Self.maximumTimeoutMilliseconds)
    }
}

/// How an exchange ended.
public enum HTTPOutcome: Equatable, Sendable {
    /// An HTTP answer arrived, whatever its status (a 3xx too, when not followed).
    case answered(status: Int, body: [UInt8])
    /// No answer, and the request may have reached the server (a time-out, a connection
    /// lost after sending, a malformed answer). Described for people. Resending it is
    /// safe only for an idempotent request: a refresh token or code sent this way may
    /// already have been used up.
    case failed(String)
    /// No answer, and the request provably never left this machine: the connection was
    /// refused, the host name did not resolve, there is no network, the connection or
    /// its TLS handshake never completed. Any request may be sent again.
    case notSent(String)
    /// The request could not be sent at all, for a local reason (the helper that sends it
    /// is missing or died, or it refused the request): retrying at once will not help.
    case transportFailed(String)

    /// "timed out after 10 s" for 10 000 ms, "timed out after 0.5 s" for 500: whole
    /// seconds, with the fraction only when there is one, exact to the millisecond (no
    /// binary fraction in between), for any `Int64`.
    public static func timedOut(afterMilliseconds milliseconds: Int64) -> String {
        // `magnitude` is a UInt64, so even Int64.min has one and nothing traps.
        let whole = milliseconds.magnitude / 1000
        var fraction = String(milliseconds.magnitude % 1000)
        if fraction != "0" {
            while fraction.count < 3 { fraction = "0" + fraction }
            while fraction.hasSuffix("0") { fraction.removeLast() }
        }
        let text = (milliseconds < 0 ? "-" : "") + String(whole) + (fraction == "0" ? "" : "." + fraction)
        return "timed out after \(text) s"
    }
}

/// Sends one HTTP exchange and waits for its outcome on the calling thread. The agent
/// calls it from worker threads only, never from its poll loop.
public protocol HTTPTransport: Sendable {
    func send(_ exchange: HTTPExchange) -> HTTPOutcome
}
