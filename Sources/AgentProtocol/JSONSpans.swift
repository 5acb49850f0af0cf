/// Where the parts of a JSON document lie in its bytes: every object and array reachable
/// from the root through object members, by path (the keys leading to it; the root is
/// `[]`). Containers inside arrays are not recorded: nothing we edit lives there.
///
/// Offsets are byte positions in the parsed input; ranges are half-open.
public struct JSONSpans: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var key: String
        /// The key's opening quote, and just past its closing quote.
        public var keyStart: Int
        public var keyEnd: Int
        /// The value's first byte, and just past its last.
        public var valueStart: Int
        public var valueEnd: Int
    }

    public struct Object: Sendable, Equatable {
        /// The offsets of `{` and `}`.
        public var open: Int
        public var close: Int
        /// In document order.
        public var members: [Member] = []
    }

    public struct Array: Sendable, Equatable {
        /// The offsets of `[` and `]`.
        public var open: Int
        public var close: Int
        public var elements: [Range<Int>] = []
    }

    public var objects: [[String]: Object] = [:]
    public var arrays: [[String]: Array] = [:]

    public init() {}
}
