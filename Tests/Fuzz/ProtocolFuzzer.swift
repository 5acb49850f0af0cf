// libFuzzer entry point for the parsers that read bytes from peers: frames, JSON,
// request envelopes, RFC 3339 times and percent-encoding. Built by scripts/fuzz with
// `swiftc -sanitize=fuzzer,address` together with the AgentProtocol sources. Whatever the
// input, nothing may trap, and what parses must serialize and parse back to the same value.

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
            _ = Request.decode(payload)
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
    return 0
}
