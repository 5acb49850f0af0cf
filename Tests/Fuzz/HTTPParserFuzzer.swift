// libFuzzer entry point for the HTTP/1.1 codec: the request parser (the bridge's and the
// endpoint's server, the CLI's callback listener) and the response parser (the agent's
// loopback client). Built by scripts/fuzz with `swiftc -sanitize=fuzzer,address` together
// with the HTTPCodec and AgentProtocol sources. Whatever the input, nothing may trap, and
// each parser must be a pure function of the byte stream: what comes out is the same
// whether the bytes arrive at once, a few at a time, or split at any point, and a response
// body counted rather than kept has the same size. The first input byte chooses the
// parser (0x40: responses, 0x20 of those: to HEAD), the limits (0x80: small) and the
// split; the rest is the stream.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let seed = Int(input[0])
    let stream = Array(input.dropFirst())
    // Small limits reach the 431 and 413 paths with short inputs.
    let limits = seed & 0x80 != 0 ? smallHTTPLimits : HTTPLimits()
    let transcript: ([[UInt8]], HTTPLimits) -> [String]
    if seed & 0x40 != 0 {
        let method = seed & 0x20 != 0 ? "HEAD" : "GET"
        transcript = { chunks, limits in
            // A body counted and dropped (keepsBody false) must have the kept body's size
            // and end in the same error.
            let counted = responseTranscript(chunks, method: method, limits: limits, keepsBody: false) {
                "\($0.status) \($1) bytes, \($0.body.count) kept"
            }
            let kept = responseTranscript(chunks, method: method, limits: limits) { response, _ in
                "\(response.status) \(response.body.count) bytes, 0 kept"
            }
            precondition(counted == kept, "counting the body gave \(counted), keeping it \(kept)")
            return [responseTranscript(chunks, method: method, limits: limits), counted]
        }
    } else {
        transcript = { requestTranscript($0, limits: $1) }
    }
    let whole = transcript([stream], limits)
    let point = seed % (stream.count + 1)
    let split = transcript([Array(stream[..<point]), Array(stream[point...])], limits)
    precondition(split == whole, "splitting at \(point) changed \(whole) into \(split)")
    let width = 1 + seed % 7
    let chunks = stride(from: 0, to: stream.count, by: width).map { Array(stream[$0..<min($0 + width, stream.count)]) }
    let strided = transcript(chunks, limits)
    precondition(strided == whole, "chunks of \(width) bytes changed \(whole) into \(strided)")
    return 0
}
