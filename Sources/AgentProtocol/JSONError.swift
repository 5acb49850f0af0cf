/// Why a byte sequence is not acceptable JSON, and where.
///
/// JSON reaches us from untrusted peers, so failures are ordinary values rather than
/// traps, and the byte offset makes a rejected frame diagnosable from a log line.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong, e.g. `unexpected character 'x'` or `duplicate key "a"`.
    public var message: String
    /// Byte offset in the input where the problem was detected.
    public var offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String {
        "\(message) at byte \(offset)"
    }
}
