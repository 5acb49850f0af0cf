/// Bytes owed to a non-blocking socket: appended whole, sent as the socket takes them.
/// The agent's and the bridge's connections both keep one.
public struct OutputBuffer {
    private var bytes: [UInt8] = []
    private var offset = 0

    public init() {}

    /// Bytes not yet sent.
    public var pending: Int { bytes.count - offset }

    /// The bytes the buffer has allocated (at least `pending`): what it costs in memory.
    public var capacity: Int { bytes.capacity }

    public mutating func append(_ more: [UInt8]) {
        if offset > 0 && offset == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            offset = 0
        }
        bytes += more
    }

    /// Sends what `fd` takes now (`MSG_NOSIGNAL`). Returns how many bytes went, or nil
    /// when the peer is gone.
    public mutating func flush(to fd: FileDescriptor) -> Int? {
        var sent = 0
        while offset < bytes.count {
            do throws(Errno) {
                let n = try fd.send(bytes, from: offset)
                offset += n
                sent += n
            } catch where error == .wouldBlock {
                return sent
            } catch {
                return nil
            }
        }
        // A drained buffer keeps a small allocation for the next answer, not a huge one:
        // thousands of idle connections should cost little.
        bytes.removeAll(keepingCapacity: bytes.capacity <= 16 * 1024)
        offset = 0
        return sent
    }
}
