import AgentPOSIX
import HTTPCodec

/// The benchmark's one HTTP/1.1 reader, for its peers (requests) and its clients
/// (responses) on blocking sockets. It parses with the codec the bridge and the endpoint
/// serve with, so no part of the benchmark reads HTTP by rules of its own; what it adds is
/// only the time the first byte of a response's body arrived (time to first byte of a
/// streamed answer).
struct HTTPReader {
    let fd: FileDescriptor
    private var requests = HTTPParser()
    /// One read's worth, reused: a fresh buffer per read would cost more than the
    /// microseconds some calls are measured in.
    private var scratch = [UInt8](repeating: 0, count: 256 * 1024)

    init(fd: FileDescriptor) { self.fd = fd }

    /// The next request on the connection; nil at its end, on a read error, or on a request
    /// the codec refuses (a peer then closes the connection).
    mutating func nextRequest() -> HTTPRequest? {
        while true {
            do throws(HTTPParseError) {
                if let request = try requests.next() { return request }
            } catch {
                return nil
            }
            guard let bytes = try? read(), !bytes.isEmpty else { return nil }
            requests.append(bytes)
        }
    }

    /// One whole response to a `method` request, and when its body's first byte arrived
    /// (monotonic nanoseconds; when it has no body, when it was whole). With `keepsBody`
    /// false the body is counted (`bodyBytes`), not held: a streamed answer of hundreds of
    /// MiB costs no memory.
    /// - Throws: `BenchError` when the connection fails or the response is malformed.
    mutating func response(to method: String, limits: HTTPLimits = HTTPLimits(), keepsBody: Bool = true)
        throws(BenchError) -> (response: HTTPReceivedResponse, bodyBytes: Int, firstByteNanoseconds: UInt64) {
        var parser = HTTPResponseParser(requestMethod: method, limits: limits, keepsBody: keepsBody)
        var firstByte: UInt64?
        while true {
            let bytes = try read()
            let arrived = Clock.monotonicNanoseconds()
            do throws(HTTPResponseError) {
                if bytes.isEmpty {
                    let response = try parser.finish()
                    return (response, parser.bodyByteCount, firstByte ?? arrived)
                }
                parser.append(bytes)
                if let response = try parser.next() { return (response, parser.bodyByteCount, firstByte ?? arrived) }
            } catch {
                throw BenchError("the answer to \(method): \(error)")
            }
            if firstByte == nil && parser.bodyHasBegun { firstByte = arrived }
        }
    }

    /// What one read gave; empty at the end of the stream.
    private mutating func read() throws(BenchError) -> ArraySlice<UInt8> {
        switch fd.readAvailable(into: &scratch) {
        case .bytes(let count): return scratch[..<count]
        case .endOfFile: return []
        case .wouldBlock: throw BenchError("no answer within the socket's time-out")
        case .failed(let error): throw BenchError("read: \(error)")
        }
    }
}
