import AgentPOSIX
import HTTPCodec
import Synchronization

/// A response produced over time by another thread: the head once, then body bytes as they
/// arrive, then the end. The server's loop moves what was produced to the client as the
/// client takes it, so a proxied stream (server-sent events) leaves as it arrives.
///
/// The producer calls `begin`, `write` and `finish` (or `respond` for a whole response,
/// or `abort`) from any thread. When the client goes away first, or stops reading for the
/// server's idle time, or lets more than `maxBufferedBytes` pile up, the server closes the
/// connection and calls the cancel handler once: the producer stops its upstream work.
public final class HTTPResponseStream: Sendable {
    /// What the producer has handed over and the loop has not taken yet.
    struct Produced {
        var head: HTTPResponse?
        /// A whole response given by `respond` (sent with its length, not chunked).
        var whole: HTTPResponse?
        var body: [UInt8] = []
        var finished = false
        var aborted = false
        var cancelled = false
        var cancelHandler: (@Sendable () -> Void)?
        /// Whether a wake-up is already owed to the loop (one byte per burst, not per write).
        var signalled = false
        /// Body bytes handed over in all, for the audit line.
        var bodyBytes: Int64 = 0
    }

    private let state = Mutex(Produced())
    private let notify: @Sendable () -> Void

    init(notify: @escaping @Sendable () -> Void) {
        self.notify = notify
    }

    // MARK: The producer's side

    /// Sends the status and header fields; the body follows with `write`. Framing fields
    /// (`Content-Length`, `Transfer-Encoding`, `Connection`) are the server's.
    public func begin(status: Int, headers: HTTPHeaders) {
        update { if $0.head == nil { $0.head = HTTPResponse(status: status, headers: headers) } }
    }

    /// Appends body bytes (after `begin`).
    public func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        update {
            $0.body += bytes
            $0.bodyBytes = $0.bodyBytes &+ Int64(bytes.count)
        }
    }

    /// Ends the body; the connection may carry the next request.
    public func finish() {
        update { $0.finished = true }
    }

    /// Answers with a whole response instead (an error before anything was sent).
    public func respond(_ response: HTTPResponse) {
        update {
            guard $0.head == nil, $0.whole == nil else { $0.aborted = true; return }
            $0.whole = response
            $0.bodyBytes = Int64(response.body.count)
            $0.finished = true
        }
    }

    /// Ends the exchange without a proper end (the upstream failed mid-body): the client
    /// sees the connection close before the last chunk, so it knows the body is cut.
    public func abort() {
        update { $0.aborted = true }
    }

    /// Runs `handler` once when the client is gone before the end; at once if it already is.
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { produced -> Bool in
            if produced.cancelled { return true }
            produced.cancelHandler = handler
            return false
        }
        if runNow { handler() }
    }

    /// Whether the client went away (the producer may stop early).
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Body bytes handed over so far.
    public var bodyBytesWritten: Int64 { state.withLock { $0.bodyBytes } }

    private func update(_ change: (inout Produced) -> Void) {
        let wake = state.withLock { produced -> Bool in
            guard !produced.cancelled else { return false }
            change(&produced)
            if produced.signalled { return false }
            produced.signalled = true
            return true
        }
        if wake { notify() }
    }

    // MARK: The loop's side

    /// Takes everything produced since the last call.
    func take() -> (whole: HTTPResponse?, head: HTTPResponse?, body: [UInt8], finished: Bool, aborted: Bool) {
        state.withLock { produced in
            let taken = (produced.whole, produced.head, produced.body, produced.finished, produced.aborted)
            produced.whole = nil
            produced.head = nil
            produced.body = []
            produced.signalled = false
            return taken
        }
    }

    /// The client is gone: drop what is pending and tell the producer.
    func cancel() {
        let handler = state.withLock { produced -> (@Sendable () -> Void)? in
            guard !produced.cancelled else { return nil }
            produced.cancelled = true
            produced.body = []
            defer { produced.cancelHandler = nil }
            return produced.cancelHandler
        }
        handler?()
    }
}
