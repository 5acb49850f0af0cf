/// A JSON object that keeps its members in insertion order.
///
/// Order matters to us for two reasons: credential files we rewrite should keep the
/// field order their owner chose, and our own output should be byte-for-byte
/// deterministic. Small objects (the common case) are searched linearly, which beats
/// hashing; larger ones get a key index so that lookups and assignments stay O(1) and
/// building an object with many members never turns quadratic.
///
/// Equality follows JSON semantics: two objects are equal when they have the same keys
/// with equal values, whatever the order. Compare `keys` to check order as well.
public struct JSONObject: Sendable, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)

    private var entries: [Element]
    /// Key positions; empty while `entries.count <= Self.indexThreshold`.
    private var index: [String: Int]
    /// Above this many members, lookups go through `index`.
    private static let indexThreshold = 12

    /// An empty object.
    public init() {
        entries = []
        index = [:]
    }

    /// An object with `pairs` in the given order. A repeated key keeps its first
    /// position and takes the last value, exactly as repeated subscript assignment would.
    public init(_ pairs: [(String, JSONValue)]) {
        self.init()
        entries.reserveCapacity(pairs.count)
        for (key, value) in pairs {
            self[key] = value
        }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// The value for `key`, or nil if absent.
    ///
    /// Setting a new key appends it; setting an existing key replaces the value in place
    /// (keeping its position); setting nil removes the member.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let position = position(of: key) else { return nil }
            return entries[position].value
        }
        set {
            if let position = position(of: key) {
                if let newValue {
                    entries[position].value = newValue
                } else {
                    remove(at: position)
                }
            } else if let newValue {
                appendNew(key: key, value: newValue)
            }
        }
    }

    /// The keys in order.
    public var keys: [String] {
        entries.map(\.key)
    }

    /// The number of members.
    public var count: Int {
        entries.count
    }

    /// True when the object has no members.
    public var isEmpty: Bool {
        entries.isEmpty
    }

    /// Whether `key` is present (even with a `null` value).
    public func contains(key: String) -> Bool {
        position(of: key) != nil
    }

    /// An object from keys the caller has already checked are distinct (the parser
    /// rejects duplicates as it reads them), built without per-member lookups.
    init(uniqueKeys keys: ArraySlice<String>, values: ArraySlice<JSONValue>) {
        entries = []
        entries.reserveCapacity(keys.count)
        for (key, value) in zip(keys, values) {
            entries.append((key: key, value: value))
        }
        index = [:]
        rebuildIndex()
    }

    /// Appends a member whose key the caller has just checked is absent.
    private mutating func appendNew(key: String, value: JSONValue) {
        entries.append((key: key, value: value))
        if entries.count > Self.indexThreshold {
            if index.isEmpty {
                rebuildIndex()
            } else {
                index[key] = entries.count - 1
            }
        }
    }

    private func position(of key: String) -> Int? {
        if entries.count > Self.indexThreshold {
            return index[key]
        }
        for position in entries.indices where entries[position].key == key {
            return position
        }
        return nil
    }

    private mutating func remove(at position: Int) {
        entries.remove(at: position)
        rebuildIndex()
    }

    private mutating func rebuildIndex() {
        index.removeAll(keepingCapacity: true)
        guard entries.count > Self.indexThreshold else { return }
        index.reserveCapacity(entries.count)
        for (position, entry) in entries.enumerated() {
            index[entry.key] = position
        }
    }
}

extension JSONObject: Sequence {
    /// Iterates `(key:value:)` pairs in insertion order.
    public func makeIterator() -> IndexingIterator<[Element]> {
        entries.makeIterator()
    }

    public var underestimatedCount: Int {
        entries.count
    }
}

extension JSONObject: Equatable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.entries.count == rhs.entries.count else { return false }
        for (key, value) in lhs.entries {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }
}
