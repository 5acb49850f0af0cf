import AgentProtocol

/// One page of a list answer (`account.list`, `request.list`), serialized as it fills:
/// `{"<key>": [entries…], "next_cursor": "<cursor>" | null}`.
///
/// A page ends at `limit` entries or when the next entry would take it past
/// `Limits.pageBudgetBytes`, whichever comes first, so every answer fits a frame
/// (`Limits.maxFrameBytes`) however many entries the tables hold. One entry always fits:
/// the fields that could grow (names, scopes, tokens, caller details, messages) are capped
/// where they enter, which keeps the largest entry far below the budget.
struct Page {
    let key: String
    let limit: Int
    private var entries: [UInt8] = []
    private(set) var count = 0

    init(key: String, limit: Int) {
        self.key = key
        self.limit = limit
    }

    /// Adds `entry` when it fits; false when the page is full (the entry is not added).
    mutating func add(_ entry: JSONObject) -> Bool {
        guard count < limit else { return false }
        let bytes = JSONValue.object(entry).serialized()
        if count > 0 && entries.count + 1 + bytes.count > Limits.pageBudgetBytes { return false }
        if count > 0 { entries.append(UInt8(ascii: ",")) }
        entries.append(contentsOf: bytes)
        count += 1
        return true
    }

    /// The serialized result object; `nextCursor` is nil on the last page.
    func serialized(nextCursor: String?) -> [UInt8] {
        var result: [UInt8] = []
        let head = Array("{\"\(key)\":[".utf8)
        let tail = Array("],\"next_cursor\":".utf8)
        let cursor = nextCursor.map { JSONValue.string($0).serialized() } ?? Array("null".utf8)
        result.reserveCapacity(head.count + entries.count + tail.count + cursor.count + 1)
        result.append(contentsOf: head)
        result.append(contentsOf: entries)
        result.append(contentsOf: tail)
        result.append(contentsOf: cursor)
        result.append(UInt8(ascii: "}"))
        return result
    }
}

extension JSONObject {
    /// The most digits a cursor has: a position is a `UInt64`, whose largest value has 20
    /// decimal digits; a longer text is refused before it is parsed.
    static let maxCursorDigits = String(UInt64.max).utf8.count

    /// The paging fields of a list request: `limit` (1 … `Limits.maxPageEntries`, default
    /// that) and `cursor` (a `next_cursor` this agent gave: the decimal position after which
    /// the page starts).
    /// - Throws: `bad_request` for a limit out of range or a cursor that is not one.
    func paging() throws(AgentError) -> (limit: Int, after: UInt64?) {
        let limit = try optionalInt("limit", in: 1...Int64(Limits.maxPageEntries)) ?? Int64(Limits.maxPageEntries)
        var after: UInt64?
        if let cursor = try optionalString("cursor") {
            guard cursor.utf8.count <= Self.maxCursorDigits, cursor.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let position = UInt64(cursor) else {
                throw AgentError(.badRequest, "field \"cursor\" must be a next_cursor this agent gave")
            }
            after = position
        }
        return (Int(limit), after)
    }
}
