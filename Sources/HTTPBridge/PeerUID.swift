import AgentPOSIX
import Glibc

/// One row of `/proc/net/tcp` or `/proc/net/tcp6`: a TCP socket, its state and owner.
public struct TCPTableEntry: Equatable, Sendable {
    public var local: SocketAddress
    public var remote: SocketAddress
    /// The kernel's TCP state number (1 established, 6 time-wait, 10 listen, ...).
    public var state: UInt8
    public var uid: UInt32
    /// 0 for sockets no process holds (time-wait, orphans).
    public var inode: UInt64
}

/// Why the owner of a loopback peer could not be found.
public struct PeerUIDError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Who is at the other end of a loopback TCP connection.
///
/// A Unix socket tells its peer's uid (`SO_PEERCRED`); TCP does not, but on loopback both
/// ends are sockets of this host, and the kernel knows the owner of the client's: the
/// socket whose local address is our peer's and whose remote address is our own.
/// identd answers the same question this way. The kernel is asked directly through
/// socket diagnostics (one exact lookup); where netlink is unavailable (some sandboxes),
/// the same row is found in `/proc/net/tcp` (IPv4) or `/proc/net/tcp6` (IPv6), which
/// lists every socket of the host and is slower the more there are.
public enum PeerUID {
    /// States in which a client's socket may be when we accept it: established, or
    /// already half-closed by a client that sent its whole request and shut down writing.
    /// A time-wait row (owner shown as uid 0) must never count.
    static let liveClientStates: Set<UInt8> = [1, 4, 5]  // ESTABLISHED, FIN_WAIT1, FIN_WAIT2

    /// The uid owning the client socket at `peer` connected to our `local` address.
    /// - Throws: `PeerUIDError` when no live socket of a process matches (the client
    ///   already closed it) or the kernel cannot be asked; the caller refuses the
    ///   connection.
    public static func owner(ofPeer peer: SocketAddress, connectedTo local: SocketAddress) throws(PeerUIDError) -> UInt32 {
        let answer: SocketDiagnostics.TCPSocketInfo?
        do throws(Errno) {
            answer = try SocketDiagnostics.tcpSocket(local: peer, remote: local)
        } catch {
            return try ownerFromTable(ofPeer: peer, connectedTo: local)
        }
        guard let answer, liveClientStates.contains(answer.state), answer.inode != 0 else {
            throw PeerUIDError(message: "no live socket for \(peer)")
        }
        return answer.uid
    }

    /// The same question answered from `/proc/net/tcp` or `/proc/net/tcp6`.
    public static func ownerFromTable(ofPeer peer: SocketAddress, connectedTo local: SocketAddress) throws(PeerUIDError) -> UInt32 {
        let path = peer.family == .inet ? "/proc/net/tcp" : "/proc/net/tcp6"
        let fd: FileDescriptor
        do throws(Errno) {
            fd = try FileDescriptor.open(path, O_RDONLY)
        } catch {
            throw PeerUIDError(message: "cannot read the TCP table: \(error)")
        }
        defer { fd.close() }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: POSIXLimits.readChunkBytes)
        var found: UInt32?
        while true {
            let result = chunk.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try fd.read(into: raw) } }
            let count: Int
            switch result {
            case .success(let n): count = n
            case .failure(let error): throw PeerUIDError(message: "cannot read the TCP table: \(error)")
            }
            if count == 0 { break }
            pending += chunk[0..<count]
            guard let lastNewline = pending.lastIndex(of: UInt8(ascii: "\n")) else { continue }
            let text = String(decoding: pending[...lastNewline], as: UTF8.self)
            pending.removeFirst(lastNewline + 1)
            if let uid = try match(lines: text, peer: peer, local: local, previous: found) { found = uid }
        }
        if !pending.isEmpty, let uid = try match(lines: String(decoding: pending, as: UTF8.self), peer: peer, local: local, previous: found) {
            found = uid
        }
        guard let found else { throw PeerUIDError(message: "no live socket for \(peer) in the TCP table") }
        return found
    }

    /// The owner of the client socket in a table's text, or nil when no live row matches.
    /// - Throws: when two live rows for the same connection disagree (never expected).
    public static func owner(in table: String, peer: SocketAddress, local: SocketAddress) throws(PeerUIDError) -> UInt32? {
        try match(lines: table, peer: peer, local: local, previous: nil)
    }

    private static func match(lines: String, peer: SocketAddress, local: SocketAddress, previous: UInt32?) throws(PeerUIDError) -> UInt32? {
        var found = previous
        let needle = tableText(peer)
        for line in lines.split(separator: "\n") where line.contains(needle) {
            guard let entry = parseLine(line, family: peer.family), entry.local == peer, entry.remote == local,
                  liveClientStates.contains(entry.state), entry.inode != 0
            else { continue }
            if let found, found != entry.uid { throw PeerUIDError(message: "conflicting owners for \(peer) in the TCP table") }
            found = entry.uid
        }
        return found
    }

    /// Parses one row:
    /// `  0: 0100007F:1F61 0100007F:A0C2 01 00000000:00000000 00:00000000 00000000  1000  0 12345 ...`
    /// (slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode).
    /// The header row and anything malformed give nil.
    public static func parseLine(_ line: some StringProtocol, family: SocketAddress.Family) -> TCPTableEntry? {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 10, fields[0].hasSuffix(":"),
              let local = parseAddress(fields[1], family: family),
              let remote = parseAddress(fields[2], family: family),
              let state = UInt8(fields[3], radix: 16),
              let uid = UInt32(fields[7]),
              let inode = UInt64(fields[9])
        else { return nil }
        return TCPTableEntry(local: local, remote: remote, state: state, uid: uid, inode: inode)
    }

    /// `ADDRESS:PORT` as the kernel prints it in the table (the inverse of `parseAddress`).
    public static func tableText(_ address: SocketAddress) -> String {
        var text = ""
        var index = 0
        while index + 4 <= address.address.count {
            let word = address.address[index..<index + 4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            text += hex(UInt64(word), digits: 8)
            index += 4
        }
        return text + ":" + hex(UInt64(address.port), digits: 4)
    }

    private static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// Parses `ADDRESS:PORT` in hex as the kernel prints it. The address is the in-memory
    /// `in_addr` / `in6_addr` printed as one or four 32-bit words in host byte order
    /// (`%08X`), so each word's bytes, laid out in host order again, are the address in
    /// network order; on x86 and ARM that is each word's hex pairs reversed. The port is
    /// printed after `ntohs`, so it reads as a plain number.
    public static func parseAddress(_ text: some StringProtocol, family: SocketAddress.Family) -> SocketAddress? {
        let parts = text.split(separator: ":")
        let wordCount = family == .inet ? 1 : 4
        guard parts.count == 2, parts[0].utf8.count == 8 * wordCount, parts[1].utf8.count == 4,
              parts.allSatisfy({ $0.allSatisfy(\.isHexDigit) }),
              let port = UInt16(parts[1], radix: 16)
        else { return nil }
        var address: [UInt8] = []
        var rest = Substring(parts[0])
        for _ in 0..<wordCount {
            guard let word = UInt32(rest.prefix(8), radix: 16) else { return nil }
            withUnsafeBytes(of: word) { address += $0 }
            rest = rest.dropFirst(8)
        }
        return SocketAddress(family: family, address: address, port: port)
    }
}
