// What the codec's parsers make of a byte stream fed in chunks, as text to compare: the
// split tests and scripts/fuzz's http-fuzzer (which compiles this file into one module with
// the codec's sources, hence the conditional import) check that any split gives the same.
#if canImport(HTTPCodec)
import HTTPCodec
#endif

/// Small limits, so that the too-large paths are reached by short inputs at every split.
var smallHTTPLimits: HTTPLimits {
    var limits = HTTPLimits()
    limits.maxHeadBytes = 96
    limits.maxBodyBytes = 8
    limits.maxHeaderCount = 3
    return limits
}

/// The requests `chunks` appended in turn make, a line each, then the error that ended the
/// stream, if any.
func requestTranscript(_ chunks: [[UInt8]], limits: HTTPLimits) -> [String] {
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

/// The response `chunks` appended in turn and then the connection's end make, or the
/// error that ended it. `describe` writes the response (given the parser's
/// `bodyByteCount` too); by default its version, status, fields and body.
func responseTranscript(_ chunks: [[UInt8]], method: String = "GET", limits: HTTPLimits = HTTPLimits(),
                        keepsBody: Bool = true,
                        describe: (HTTPReceivedResponse, _ bodyByteCount: Int) -> String = { response, _ in
                            let headers = response.headers.map { "\($0.name): \($0.value)" }.joined(separator: "|")
                            return "\(response.version) \(response.status) [\(headers)] \(response.body)"
                        }) -> String {
    var parser = HTTPResponseParser(requestMethod: method, limits: limits, keepsBody: keepsBody)
    do throws(HTTPResponseError) {
        for chunk in chunks {
            parser.append(chunk)
            if let response = try parser.next() { return describe(response, parser.bodyByteCount) }
        }
        let response = try parser.finish()
        return describe(response, parser.bodyByteCount)
    } catch {
        return "error \(error.kind) \(error.message)"
    }
}
