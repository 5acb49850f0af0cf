/// One request as it goes to the upstream API.
public struct UpstreamRequest: Sendable {
    public var method: String
    public var url: String
    /// Header fields in order, framing fields excluded (the HTTP client adds its own).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// How long the upstream may stay silent (before its head, or between two pieces of
    /// its body).
    public var timeoutMilliseconds: Int64
}

/// What the upstream's answer does, as it arrives; called on the HTTP client's threads,
/// one call at a time per exchange.
public struct UpstreamEvents: Sendable {
    /// The status and header fields. Returning false drops the exchange: no body and no
    /// `end` follow.
    public var head: @Sendable (_ status: Int, _ headers: [(name: String, value: String)]) -> Bool
    /// Body bytes, decoded from any content coding, as they arrive.
    public var body: @Sendable ([UInt8]) -> Void
    /// The end: nil after a whole answer, else why it failed (a time-out, a reset).
    public var end: @Sendable (_ failure: UpstreamFailure?) -> Void

    public init(head: @escaping @Sendable (Int, [(name: String, value: String)]) -> Bool,
                body: @escaping @Sendable ([UInt8]) -> Void,
                end: @escaping @Sendable (UpstreamFailure?) -> Void) {
        self.head = head
        self.body = body
        self.end = end
    }
}

/// Why an upstream exchange failed.
public struct UpstreamFailure: Error, Sendable {
    /// The upstream stayed silent past the time-out (answered 504), rather than failed (502).
    public var timedOut: Bool
    /// For the client and the log; never holds a token or a body.
    public var message: String

    public init(timedOut: Bool, message: String) {
        self.timedOut = timedOut
        self.message = message
    }
}

/// An exchange in flight; `cancel` stops it (the client left) and no more events follow.
public protocol UpstreamTask: Sendable {
    func cancel()
}

/// The HTTP client that reaches the upstream. The endpoint's executable gives it one over
/// URLSession (HTTPS needs FoundationNetworking, which this library does not link).
public protocol Upstream: Sendable {
    func start(_ request: UpstreamRequest, events: UpstreamEvents) -> UpstreamTask
}
