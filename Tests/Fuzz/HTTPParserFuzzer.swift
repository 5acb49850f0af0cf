// libFuzzer entry point for the HTTP bridge's request parser. Built by scripts/fuzz with
// `swiftc -sanitize=fuzzer,address` together with HTTPParser.swift, HTTPRequest.swift and
// the AgentProtocol sources. Whatever the input, nothing may trap, and the parser must be a
// pure function of the byte stream: the requests and the error that come out are the same
// whether the bytes arrive at once, a byte at a time, or split at any point. The first
// input byte chooses the split; the rest is the stream.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let seed = Int(input[0])
    let stream = Array(input.dropFirst())
    var limits = HTTPLimits()
    // Small limits reach the 431 and 413 paths with short inputs.
    if seed & 0x80 != 0 {
        limits.maxHeadBytes = 64
        limits.maxBodyBytes = 32
        limits.maxHeaderCount = 4
    }
    let whole = transcript(of: [stream], limits: limits)
    let point = seed % (stream.count + 1)
    let split = transcript(of: [Array(stream[..<point]), Array(stream[point...])], limits: limits)
    precondition(split == whole, "splitting at \(point) changed \(whole) into \(split)")
    let width = 1 + seed % 7
    let chunks = stride(from: 0, to: stream.count, by: width).map { Array(stream[$0..<min($0 + width, stream.count)]) }
    let strided = transcript(of: chunks, limits: limits)
    precondition(strided == whole, "chunks of \(width) bytes changed \(whole) into \(strided)")
    return 0
}

/// What the parser makes of `chunks` appended in turn: each request, then the error that
/// ended the stream, if any.
func transcript(of chunks: [[UInt8]], limits: HTTPLimits) -> [String] {
    var parser = HTTPParser(limits: limits)
    var lines: [String] = []
    for chunk in chunks {
        parser.append(chunk)
        do throws(HTTPParseError) {
            while let request = try parser.next() {
                let headers = request.headers.map { "\($0.name): \($0.value)" }.joined(separator: "|")
                lines.append("\(request.method) \(request.target) \(request.version) [\(headers)] \(request.body)")
            }
        } catch {
            lines.append("error \(error.status) \(error.code)")
            return lines
        }
    }
    return lines
}
