import AgentPOSIX
import AgentProtocol

/// One client connection: its socket, who is at the other end, and its buffers.
///
/// Requests on one connection are answered in order: while one waits for slow work (a
/// refresh, an approval), later requests stay buffered unread. Clients that want
/// concurrency open more connections.
final class Connection {
    let id: UInt64
    let fd: FileDescriptor
    let peer: PeerCredentials
    var decoder = FrameDecoder(maxPayloadBytes: Limits.maxFrameBytes)
    var output = OutputBuffer()
    var lastActivity: Int64
    /// The RPC id of the request whose answer is pending, if any.
    var awaitingRPCID: Int64?
    /// Set when the connection should close once its output is flushed.
    var closeAfterFlush = false
    /// The bytes of this connection counted in the agent's buffered total (see
    /// `Limits.maxBufferedBytes`), as of the last count.
    var accountedBytes = 0

    init(id: UInt64, fd: FileDescriptor, peer: PeerCredentials, now: Int64) {
        self.id = id
        self.fd = fd
        self.peer = peer
        self.lastActivity = now
    }

    var pendingOutput: Int { output.pending }

    /// The memory of the connection's buffers: input not yet answered (part of a frame, or
    /// frames waiting behind a slow answer) and output the client has not read, counted by
    /// what they have allocated, since that is what the process holds.
    var bufferedBytes: Int { decoder.bufferCapacity + output.capacity }

    /// Whether nothing is waiting in either buffer (a new client, or one between requests).
    var holdsNothing: Bool { decoder.bufferedByteCount == 0 && output.pending == 0 }

    /// Whether to read more requests now: not while an answer is pending, not while the
    /// client leaves a lot of our output unread (so a client that never reads cannot make
    /// us buffer without bound).
    var wantsInput: Bool {
        awaitingRPCID == nil && !closeAfterFlush && pendingOutput < Limits.maxPendingOutputBytes
    }

    func enqueue(_ response: JSONValue) {
        output.append(Frame.encode(response))
    }

    /// Queues a frame encoded beforehand (`Response.successFrame`).
    func enqueue(frame: [UInt8]) {
        output.append(frame)
    }

    /// Sends what the socket takes now. Returns false when the peer is gone.
    func flush() -> Bool {
        output.flush(to: fd) != nil
    }
}
