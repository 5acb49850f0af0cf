/// Edits a JSON document in place: changes the bytes of the members it is told to change
/// and no others, so a file shared with another tool keeps its layout (minified or
/// pretty, its indentation), its number spellings (`0.10`, `1e-7`), its string escapes
/// (`\u00e9`, `\/`) and every member we do not own, byte for byte.
///
/// Each edit splices the new value's text over the old one's (`JSONSpans` from the one
/// JSON parser), then parses the result again, so the spans are always those of the
/// current bytes and an edit that would break the document cannot be made.
public struct JSONTextEditor: Sendable {
    public private(set) var bytes: [UInt8]
    public private(set) var value: JSONValue
    private var spans: JSONSpans

    /// - Throws: `JSONError` when `bytes` is not one valid JSON document.
    public init(_ bytes: [UInt8]) throws(JSONError) {
        (value, spans) = try JSONValue.parseWithSpans(bytes)
        self.bytes = bytes
    }

    /// The value at `path` (keys from the root), if every step is an object member.
    public func value(at path: [String]) -> JSONValue? {
        var current = value
        for key in path {
            guard let next = current.objectValue?[key] else { return nil }
            current = next
        }
        return current
    }

    /// Sets member `key` of the object at `path` to `newValue`.
    ///
    /// - A member whose value already equals `newValue` is left as it is, bytes and all.
    /// - A changed member gets the new value's text where the old one was. An array
    ///   replacing an array takes the old one's layout (its spacing and line breaks).
    /// - A missing member is added after the last one, spaced as the last one is.
    /// - Throws: `JSONError` when there is no object at `path`.
    public mutating func set(_ key: String, in path: [String], to newValue: JSONValue) throws(JSONError) {
        let object = try objectSpans(at: path)
        if let member = object.members.first(where: { $0.key == key }) {
            guard value(at: path + [key]) != newValue else { return }
            let text = render(newValue, replacing: path + [key])
            try splice(member.valueStart..<member.valueEnd, with: text)
            return
        }
        let keyText = JSONValue.string(key).serialized()
        let valueText = newValue.serialized()
        guard let last = object.members.last else {
            // An empty object: the member goes right after `{`, its inside space kept.
            try splice((object.open + 1)..<(object.open + 1), with: keyText + Array(":".utf8) + valueText)
            return
        }
        // Spaced as the last member: the whitespace before its key, and what lies
        // between its key and its value (`": "` or `":"`).
        var leadStart = last.keyStart
        while leadStart > object.open + 1, Self.isWhitespace(bytes[leadStart - 1]) { leadStart -= 1 }
        let lead = Array(bytes[leadStart..<last.keyStart])
        let colon = Array(bytes[last.keyEnd..<last.valueStart])
        try splice(last.valueEnd..<last.valueEnd, with: [UInt8(ascii: ",")] + lead + keyText + colon + valueText)
    }

    /// Removes member `key` of the object at `path`, with the comma and whitespace that
    /// went with it; a missing member is no change.
    /// - Throws: `JSONError` when there is no object at `path`.
    public mutating func remove(_ key: String, in path: [String]) throws(JSONError) {
        let object = try objectSpans(at: path)
        guard let index = object.members.firstIndex(where: { $0.key == key }) else { return }
        let member = object.members[index]
        if object.members.count == 1 {
            try splice((object.open + 1)..<object.close, with: [])
        } else if index > 0 {
            try splice(object.members[index - 1].valueEnd..<member.valueEnd, with: [])
        } else {
            try splice(member.keyStart..<object.members[1].keyStart, with: [])
        }
    }

    // MARK: - Private

    private func objectSpans(at path: [String]) throws(JSONError) -> JSONSpans.Object {
        guard let object = spans.objects[path] else {
            throw JSONError(message: "no object at \(path.isEmpty ? "the root" : path.joined(separator: "."))", offset: 0)
        }
        return object
    }

    /// The text of `newValue`; an array replacing a non-empty array is laid out as it was.
    private func render(_ newValue: JSONValue, replacing path: [String]) -> [UInt8] {
        guard let items = newValue.arrayValue, !items.isEmpty, let old = spans.arrays[path],
              let first = old.elements.first, let last = old.elements.last
        else { return newValue.serialized() }
        let lead = Array(bytes[(old.open + 1)..<first.lowerBound])
        let trail = Array(bytes[last.upperBound..<old.close])
        let separator = old.elements.count >= 2
            ? Array(bytes[old.elements[0].upperBound..<old.elements[1].lowerBound])
            : [UInt8(ascii: ",")] + lead
        var text: [UInt8] = [UInt8(ascii: "[")] + lead
        for (offset, item) in items.enumerated() {
            if offset > 0 { text += separator }
            text += item.serialized()
        }
        return text + trail + [UInt8(ascii: "]")]
    }

    /// Replaces `range` and parses the result, keeping the old bytes if it does not parse.
    private mutating func splice(_ range: Range<Int>, with text: [UInt8]) throws(JSONError) {
        var edited = bytes
        edited.replaceSubrange(range, with: text)
        (value, spans) = try JSONValue.parseWithSpans(edited)
        bytes = edited
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
