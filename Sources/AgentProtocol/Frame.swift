/// Wire framing between clients and the agent: a 4-byte unsigned big-endian length,
/// then that many bytes holding one JSON object as UTF-8.
///
/// A length prefix (as in the ssh-agent protocol) lets a reader know how much to wait
/// for and reject oversized messages before buffering them, which a delimiter-based
/// protocol could not do.
public enum Frame {
    /// The largest payload accepted, as ssh-agent's `AGENT_MAX_LEN`: ample for token
    /// messages, small enough that a hostile peer cannot make us buffer much.
    public static let maxPayloadBytes = 256 * 1024

    /// Size of the length prefix.
    public static let headerBytes = 4

    /// Header plus the compact JSON serialization of `value`.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        encode(payload: value.serialized())
    }

    /// Header plus `payload`. The length is not checked against `maxPayloadBytes` here; the
    /// receiving decoder enforces its own limit.
    public static func encode(payload: [UInt8]) -> [UInt8] {
        precondition(payload.count <= Int(UInt32.max), "frame payload cannot exceed 4 GiB")
        let length = UInt32(truncatingIfNeeded: payload.count)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerBytes + payload.count)
        bytes.append(UInt8(truncatingIfNeeded: length >> 24))
        bytes.append(UInt8(truncatingIfNeeded: length >> 16))
        bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        bytes.append(UInt8(truncatingIfNeeded: length))
        bytes.append(contentsOf: payload)
        return bytes
    }
}

/// A frame header the decoder refuses; the connection cannot be resynchronised after
/// this, so the caller should close it.
public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The header announced an empty payload, which can never hold a JSON object.
    case zeroLength
    /// The header announced more than the decoder's maximum length.
    case tooLong(UInt32)

    public var description: String {
        switch self {
        case .zeroLength:
            return "frame with zero length"
        case .tooLong(let length):
            return "frame length \(length) exceeds the limit"
        }
    }
}
