// libFuzzer entry point for the parsers that read bytes from peers: frames, JSON,
// request envelopes, RFC 3339 times and percent-encoding, and the range checks every
// number from a peer passes (`NumberRange`). Built by scripts/fuzz with
// `swiftc -sanitize=fuzzer,address` together with the AgentProtocol sources. Whatever the
// input, nothing may trap, what parses must serialize and parse back to the same value,
// and every number past its door lies in its documented range.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    if let value = try? JSONValue.parse(bytes) {
        let again = try? JSONValue.parse(value.serialized())
        precondition(again == value, "JSON round trip changed the value")
        // The span-recording parse agrees, and an in-place edit of every object keeps
        // a document that parses to the edited value.
        let (spanned, spans) = try! JSONValue.parseWithSpans(bytes)
        precondition(spanned == value, "parseWithSpans disagrees with parse")
        if var editor = try? JSONTextEditor(bytes) {
            for path in spans.objects.keys.sorted(by: { $0.count < $1.count }).prefix(4) {
                try? editor.set("fuzz", in: path, to: .int(1))
                precondition((try? JSONValue.parse(editor.bytes)) == editor.value, "an edit left an unparsable document")
            }
        }
    }

    var decoder = FrameDecoder()
    for chunk in stride(from: 0, to: bytes.count, by: 7) {
        decoder.append(bytes[chunk..<min(chunk + 7, bytes.count)])
        while case .some(.some(let payload)) = try? decoder.next() {
            if case .success(let request) = Request.decode(payload) { checkNumbers(request.body) }
            _ = Response.decode(payload)
        }
    }

    let text = String(decoding: bytes, as: UTF8.self)
    if let seconds = RFC3339.parse(text) {
        precondition(RFC3339.parse(RFC3339.format(seconds)) == seconds, "RFC 3339 round trip changed the time")
    }
    if let decoded = PercentEncoding.decode(text) {
        precondition(PercentEncoding.decode(PercentEncoding.encode(decoded), plusAsSpace: false) == decoded,
                     "percent-encoding round trip changed the text")
    }
    _ = PercentEncoding.parseQuery(text)
    _ = AccountReference(text: text)
    _ = AccountName.problem(with: text)
    _ = Scopes.parse(text)
    if case .object(let object)? = try? JSONValue.parse(bytes) { checkNumbers(object) }
    return 0
}

/// Reads every numeric field the agent reads, as it reads them, and checks that what gets
/// through is in range and that the time arithmetic done on it afterwards cannot trap.
func checkNumbers(_ body: JSONObject) {
    let now: Int64 = 1_800_000_000
    if let bundle = try? TokenBundle(json: body, now: now), let expiresAt = bundle.expiresAt {
        precondition(expiresAt >= -NumberRange.maxDurationSeconds && expiresAt <= now + NumberRange.maxDurationSeconds
                     || NumberRange.epochSeconds.contains(expiresAt), "expires_at \(expiresAt) escaped its range")
        _ = expiresAt.saturatingSubtracting(Int64.max)
    }
    for (key, range) in [("lifetime", NumberRange.durationSeconds), ("expires_in", NumberRange.expiresInSeconds),
                         ("timeout", NumberRange.waitSeconds), ("caller_pid", NumberRange.processID)] {
        guard let value = try? body.optionalInt(key, in: range) else { continue }
        precondition(range.contains(value), "\(key) \(value) escaped \(range)")
        _ = now.saturatingAdding(value.saturatingMultiplied(by: 1000))
    }
    if let id = body["id"]?.intValue {
        _ = id.saturatingAdding(id).saturatingMultiplied(by: id).saturatingSubtracting(.min)
    }
}
