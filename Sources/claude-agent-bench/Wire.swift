import AgentProtocol
import AgentPOSIX
import Glibc

/// Why a measurement could not be taken: the run stops and says so.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One blocking connection to an agent. ssh-agent and claude-agent frame their messages
/// the same way (a big-endian uint32 length, then the message), so one reader serves
/// both, and neither side of a comparison gets a cheaper client than the other.
struct BlockingConnection {
    let fd: FileDescriptor

    static func open(_ path: String) throws(BenchError) -> BlockingConnection {
        do throws(Errno) {
            return BlockingConnection(fd: try UnixSocket.connect(path: path))
        } catch {
            throw BenchError("cannot connect to \(path): \(error)")
        }
    }

    func close() { fd.close() }

    func writeAll(_ bytes: [UInt8]) throws(BenchError) {
        do throws(Errno) { try fd.sendAll(bytes) } catch { throw BenchError("\(error)") }
    }

    /// Reads one message into `buffer` (grown as needed) and returns its length.
    func readMessage(into buffer: inout [UInt8]) throws(BenchError) -> Int {
        var header = [UInt8](repeating: 0, count: 4)
        try readExactly(&header, count: 4)
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        guard length > 0, length <= 1 << 20 else { throw BenchError("a message of \(length) bytes") }
        if buffer.count < length { buffer = [UInt8](repeating: 0, count: length) }
        try readExactly(&buffer, count: length)
        return length
    }

    private func readExactly(_ buffer: inout [UInt8], count: Int) throws(BenchError) {
        var got = 0
        while got < count {
            let n = buffer.withUnsafeMutableBytes { raw in
                Result { () throws(Errno) in try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[got..<count])) }
            }
            switch n {
            case .success(0): throw BenchError("the agent closed the connection")
            case .success(let taken): got += taken
            case .failure(let error): throw BenchError("\(error)")
            }
        }
    }
}

/// A request frame and how to tell a good answer from a bad one, cheaply enough that the
/// check costs the same for both agents.
struct Exchange: Sendable {
    let request: [UInt8]
    /// True when the answer (its bytes, without the length) is the expected one.
    let accepts: @Sendable (UnsafeBufferPointer<UInt8>) -> Bool

    /// ssh-agent's SSH2_AGENTC_REQUEST_IDENTITIES (11); the answer is
    /// SSH2_AGENT_IDENTITIES_ANSWER (12).
    static let sshIdentities = Exchange(request: [0, 0, 0, 1, 11]) { $0.first == 12 }

    /// claude-agent's `token.get` for a held token. The answer must start as a success
    /// does; its full JSON is checked once before the run (`validated`).
    static func claudeToken(account: String? = nil) -> Exchange {
        var payload = #"{"id":1,"op":"\#(Op.tokenGet)","scopes":["user:inference"]"#
        if let account { payload += #","account":"\#(account)""# }
        payload += "}"
        return claude(payload)
    }

    static func claude(_ payload: String) -> Exchange {
        let prefix = Array(#"{"id":1,"ok":true"#.utf8)
        return Exchange(request: frame(payload)) { answer in
            answer.count >= prefix.count && zip(answer, prefix).allSatisfy { $0 == $1 }
        }
    }

    static func frame(_ payload: String) -> [UInt8] {
        let body = Array(payload.utf8)
        let n = UInt32(body.count)
        return [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)] + body
    }
}

