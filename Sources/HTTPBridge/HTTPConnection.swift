import AgentPOSIX
import HTTPCodec

/// What a handler knows about the connection a request came on.
public struct ConnectionInfo: Sendable {
    /// Unique for the server's life, for logs.
    public let id: UInt64
    /// The client's address and port.
    public let peer: SocketAddress
    /// Our address and port that the client connected to.
    public let local: SocketAddress
    /// The uid owning the client's socket, when the server checked it.
    public let peerUID: UInt32?

    public init(id: UInt64, peer: SocketAddress, local: SocketAddress, peerUID: UInt32?) {
        self.id = id
        self.peer = peer
        self.local = local
        self.peerUID = peerUID
    }
}

/// One client connection of the HTTP server: its socket, parser, output buffer and the
/// clock that bounds how long it may take.
///
/// Owned by the server's loop thread.
final class HTTPConnection {
    enum Phase {
        /// Reading requests and answering them in order.
        case open
        /// A last answer is going out; then writing is shut down and the rest drained.
        case closingAfterFlush
        /// Writing is shut down; what the client still sends is read and dropped until it
        /// closes or the linger time ends, so our last answer is not destroyed by a reset.
        case lingering
    }

    let info: ConnectionInfo
    let fd: FileDescriptor
    var parser: HTTPParser
    var phase = Phase.open
    private var output = OutputBuffer()
    /// When the current phase runs out: the request (head and body) must be complete, the
    /// idle keep-alive connection is dropped, or the lingering close ends.
    var deadline: Int64
    /// Whether bytes of an unanswered request have arrived (a time-out then answers 408).
    var requestStarted = false
    /// The last time the client took some of our output.
    var lastWriteProgress: Int64
    /// The answer being produced elsewhere for the current request, if any; requests
    /// behind it wait.
    var stream: HTTPResponseStream?
    /// What the streamed answer's framing depends on: the request's version, whether it
    /// allowed keep-alive, whether it was HEAD.
    var streamRequest: (version: HTTPVersion, keepAlive: Bool, isHead: Bool)?
    var streamHeadSent = false
    var streamKeepAlive = false
    var streamHasBody = false

    init(info: ConnectionInfo, fd: FileDescriptor, limits: HTTPLimits, deadline: Int64, now: Int64) {
        self.info = info
        self.fd = fd
        self.parser = HTTPParser(limits: limits)
        self.deadline = deadline
        self.lastWriteProgress = now
    }

    var pendingOutput: Int { output.pending }

    func enqueue(_ bytes: [UInt8]) {
        output.append(bytes)
    }

    /// Sends what the socket takes now. Returns false when the peer is gone.
    func flush(now: Int64) -> Bool {
        guard let sent = output.flush(to: fd) else { return false }
        if sent > 0 { lastWriteProgress = now }
        return true
    }
}
