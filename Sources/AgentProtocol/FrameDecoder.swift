/// Splits a byte stream into frame payloads, however the bytes are chunked.
///
/// Sockets deliver whatever they have: part of a header, one byte, or several frames
/// at once. The decoder buffers bytes and hands out complete payloads. Consumed bytes
/// are skipped with a read index and only compacted away once they are at least half
/// the buffer, so each byte is copied O(1) times on average rather than once per frame.
///
/// A header announcing length 0 or more than `maxPayloadBytes` makes `next()` throw as soon
/// as the four header bytes are in, before any body is buffered; the error then repeats
/// on every call, as the stream cannot be resynchronised.
public struct FrameDecoder: Sendable {
    private let maxPayloadBytes: Int
    private var buffer: [UInt8] = []
    /// Start of the unconsumed bytes in `buffer`.
    private var readIndex = 0

    /// The most capacity an emptied buffer keeps for the next frames, in bytes: room for
    /// the usual request, not for the largest.
    public static let retainedCapacityBytes = 4 * 1024

    public init(maxPayloadBytes: Int = Frame.maxPayloadBytes) {
        self.maxPayloadBytes = maxPayloadBytes
    }

    /// Adds bytes received from the peer.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compactIfWorthwhile()
        let copied: Void? = bytes.withContiguousStorageIfAvailable { contiguous in
            buffer.append(contentsOf: contiguous)
        }
        if copied == nil {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Adds bytes straight from a read buffer without an intermediate array.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes.bindMemory(to: UInt8.self))
    }

    /// The next complete payload, or nil if more bytes are needed.
    public mutating func next() throws(FrameError) -> [UInt8]? {
        guard let length = try announcedLength() else { return nil }
        let bodyStart = readIndex + Frame.headerBytes
        let bodyEnd = bodyStart + length
        guard bodyEnd <= buffer.count else { return nil }
        let payload = Array(buffer[bodyStart..<bodyEnd])
        readIndex = bodyEnd
        if readIndex == buffer.count {
            // Everything consumed: reset for free instead of copying later, keeping room
            // for small frames but not the memory a big one took: an idle connection
            // should cost little however large its last frame was.
            buffer.removeAll(keepingCapacity: buffer.capacity <= Self.retainedCapacityBytes)
            readIndex = 0
        }
        return payload
    }

    /// True when buffered bytes form the start of a frame that is not complete yet.
    /// At end of stream this distinguishes a truncated frame from a clean close.
    public var hasPartialFrame: Bool {
        let available = bufferedByteCount
        guard available > 0 else { return false }
        guard available >= Frame.headerBytes else { return true }
        return available < Frame.headerBytes + Int(headerValue())
    }

    /// The bytes the buffer has allocated (at least `bufferedByteCount`): what it costs in
    /// memory, for budgets across connections.
    public var bufferCapacity: Int { buffer.capacity }

    /// Bytes received but not yet returned by `next()`.
    public var bufferedByteCount: Int {
        buffer.count - readIndex
    }

    // MARK: - Private

    /// The payload length in the header at `readIndex`, nil if the header is incomplete.
    private func announcedLength() throws(FrameError) -> Int? {
        guard bufferedByteCount >= Frame.headerBytes else { return nil }
        let length = headerValue()
        if length == 0 { throw .zeroLength }
        if UInt64(length) > UInt64(maxPayloadBytes) { throw .tooLong(length) }
        return Int(length)
    }

    private func headerValue() -> UInt32 {
        UInt32(buffer[readIndex]) << 24
            | UInt32(buffer[readIndex + 1]) << 16
            | UInt32(buffer[readIndex + 2]) << 8
            | UInt32(buffer[readIndex + 3])
    }

    /// Drops consumed bytes once they make up at least half the buffer: the copy then
    /// moves no more bytes than were consumed since the last one, keeping appends
    /// amortised O(1) per byte.
    private mutating func compactIfWorthwhile() {
        guard readIndex > 0, readIndex >= buffer.count - readIndex else { return }
        buffer.removeSubrange(0..<readIndex)
        readIndex = 0
    }
}
