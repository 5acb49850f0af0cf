import AgentPOSIX
import HTTPBridge
import Testing

@Suite("The owner of a loopback peer, from /proc/net/tcp and tcp6")
struct PeerUIDTests {
    static let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"

    @Test("an IPv4 row: little-endian address, big-endian port, state, uid, inode")
    func ipv4Row() throws {
        let line = "   3: 0100007F:A0C2 0100007F:1E61 01 00000000:00000000 00:00000000 00000000  1000        0 123456 1 0000000000000000 20 4 30 10 -1"
        let entry = try #require(PeerUID.parseLine(line, family: .inet))
        #expect(entry.local == SocketAddress(family: .inet, address: [127, 0, 0, 1], port: 0xA0C2))
        #expect(entry.remote == SocketAddress(family: .inet, address: [127, 0, 0, 1], port: 7777))
        #expect(entry.state == 1)
        #expect(entry.uid == 1000)
        #expect(entry.inode == 123_456)
        let other = try #require(PeerUID.parseLine("   0: 0200A8C0:0016 0A00A8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 1 1", family: .inet))
        #expect(other.local.description == "192.168.0.2:22")
        #expect(other.remote.description == "192.168.0.10:54321")
    }

    @Test("IPv6 rows: four little-endian 32-bit words")
    func ipv6Rows() throws {
        let loopback = "   0: 00000000000000000000000001000000:A0C2 00000000000000000000000001000000:1E61 01 00000000:00000000 00:00000000 00000000  1000        0 654321 1 0000000000000000 20 4 30 10 -1"
        let entry = try #require(PeerUID.parseLine(loopback, family: .inet6))
        #expect(entry.local.description == "[::1]:41154")
        #expect(entry.remote.description == "[::1]:7777")
        #expect(entry.uid == 1000)
        let documentation = try #require(PeerUID.parseLine(
            "   1: B80D0120000000000000000001000000:0050 0000000000000000FFFF00000100007F:1F90 0A 00000000:00000000 00:00000000 00000000    33        0 42 1",
            family: .inet6))
        #expect(documentation.local.description == "[2001:db8::1]:80")
        #expect(documentation.remote.description == "[::ffff:127.0.0.1]:8080")
        #expect(documentation.state == 10)
        #expect(documentation.uid == 33)
    }

    @Test("addresses print back as the table writes them")
    func tableText() throws {
        let v4 = SocketAddress(family: .inet, address: [127, 0, 0, 1], port: 7777)
        #expect(PeerUID.tableText(v4) == "0100007F:1E61")
        let v6 = try #require(SocketAddress(parsing: "[2001:db8::1]:80"))
        #expect(PeerUID.tableText(v6) == "B80D0120000000000000000001000000:0050")
        #expect(PeerUID.parseAddress(PeerUID.tableText(v6), family: .inet6) == v6)
    }

    @Test("the header and malformed rows are skipped", arguments: [
        header,
        "",
        "   0: 0100007F:A0C2 0100007F:1E61 01",
        "   0: 0100007G:A0C2 0100007F:1E61 01 00000000:00000000 00:00000000 00000000  1000 0 1 1",
        "   0: 100007F:A0C2 0100007F:1E61 01 00000000:00000000 00:00000000 00000000  1000 0 1 1",
        "   0: +100007F:A0C2 0100007F:1E61 01 00000000:00000000 00:00000000 00000000  1000 0 1 1",
        "   0: 0100007F:A0C2 0100007F:1E61 01 00000000:00000000 00:00000000 00000000  -1 0 1 1",
    ])
    func malformed(_ line: String) {
        #expect(PeerUID.parseLine(line, family: .inet) == nil)
    }

    @Test("the client's live row gives its uid; our own row and time-wait rows do not count")
    func matching() throws {
        let peer = SocketAddress(family: .inet, address: [127, 0, 0, 1], port: 0xA0C2)
        let table = [
            Self.header,
            // A time-wait socket of an earlier connection on the same ports: uid 0, inode 0.
            "   0: 0100007F:A0C2 0100007F:1E61 06 00000000:00000000 03:00000F3E 00000000     0        0 0 3 0000000000000000",
            // Our side of the connection: local is us, remote is the client.
            "   1: 0100007F:1E61 0100007F:A0C2 01 00000000:00000000 00:00000000 00000000  4242        0 111 1 0000000000000000 20 4 30 10 -1",
            // The client's socket.
            "   2: 0100007F:A0C2 0100007F:1E61 01 00000000:00000000 00:00000000 00000000  1000        0 222 1 0000000000000000 20 4 30 10 -1",
        ].joined(separator: "\n")
        #expect(try PeerUID.owner(in: table, peer: peer, local: bridgeAddress) == 1000)
        let onlyTimeWait = [Self.header, String(table.split(separator: "\n")[1])].joined(separator: "\n")
        #expect(try PeerUID.owner(in: onlyTimeWait, peer: peer, local: bridgeAddress) == nil)
        let conflicting = table + "\n   3: 0100007F:A0C2 0100007F:1E61 01 00000000:00000000 00:00000000 00000000  1001 0 333 1"
        #expect(throws: PeerUIDError.self) { try PeerUID.owner(in: conflicting, peer: peer, local: bridgeAddress) }
    }

    @Test("a real IPv4 loopback connection is owned by our uid")
    func realConnectionIPv4() throws { try realConnection(.inet) }

    @Test("a real IPv6 loopback connection is owned by our uid",
          .enabled(if: IPv6Loopback.available, "this host has no IPv6 loopback (::1)"))
    func realConnectionIPv6() throws { try realConnection(.inet6) }

    func realConnection(_ family: SocketAddress.Family) throws {
        let connection = try LoopbackConnection(family)
        let (local, clientAddress) = (connection.local, connection.clientAddress)
        #expect(try PeerUID.owner(ofPeer: clientAddress, connectedTo: local) == ProcessControl.effectiveUID)
        #expect(try PeerUID.ownerFromTable(ofPeer: clientAddress, connectedTo: local) == ProcessControl.effectiveUID)
        let stranger = SocketAddress(family: family, address: clientAddress.address, port: clientAddress.port &+ 1)
        #expect(throws: PeerUIDError.self) { try PeerUID.owner(ofPeer: stranger, connectedTo: local) }
        #expect(throws: PeerUIDError.self) { try PeerUID.ownerFromTable(ofPeer: stranger, connectedTo: local) }
        // Our own, accepted side is not the client's socket.
        #expect(throws: PeerUIDError.self) { try PeerUID.owner(ofPeer: local, connectedTo: clientAddress) }
    }

    @Test("the kernel's socket diagnostics name the client's IPv4 socket: established, ours, held by a process",
          .enabled(if: SocketDiagnosticsProbe.available, "this sandbox gives no NETLINK_SOCK_DIAG socket; PeerUID reads /proc/net/tcp instead"))
    func socketDiagnosticsIPv4() throws { try socketDiagnostics(.inet) }

    @Test("the kernel's socket diagnostics name the client's IPv6 socket: established, ours, held by a process",
          .enabled(if: SocketDiagnosticsProbe.available, "this sandbox gives no NETLINK_SOCK_DIAG socket; PeerUID reads /proc/net/tcp6 instead"),
          .enabled(if: IPv6Loopback.available, "this host has no IPv6 loopback (::1)"))
    func socketDiagnosticsIPv6() throws { try socketDiagnostics(.inet6) }

    func socketDiagnostics(_ family: SocketAddress.Family) throws {
        let connection = try LoopbackConnection(family)
        let (local, clientAddress) = (connection.local, connection.clientAddress)
        let answer = try #require(try SocketDiagnostics.tcpSocket(local: clientAddress, remote: local))
        #expect(answer.state == 1)
        #expect(answer.uid == ProcessControl.effectiveUID)
        #expect(answer.inode != 0)
        let stranger = SocketAddress(family: family, address: clientAddress.address, port: clientAddress.port &+ 1)
        #expect(try SocketDiagnostics.tcpSocket(local: stranger, remote: local) == nil)
    }
}

/// Whether the kernel answers socket diagnostics here. Asked about a socket that does not
/// exist it answers nil; a sandbox without netlink makes the question itself throw.
enum SocketDiagnosticsProbe {
    static let available: Bool = {
        let nowhere = SocketAddress(family: .inet, address: [127, 0, 0, 1], port: 1)
        do {
            _ = try SocketDiagnostics.tcpSocket(local: nowhere, remote: nowhere)
            return true
        } catch {
            return false
        }
    }()
}

/// A client connected to a listener on loopback (the connection not accepted: the kernel
/// has it established all the same); both closed when it goes.
final class LoopbackConnection {
    let listener: FileDescriptor
    let client: FileDescriptor
    /// The listener's address, which the client is connected to.
    let local: SocketAddress
    let clientAddress: SocketAddress

    init(_ family: SocketAddress.Family) throws {
        let address = family == .inet ? SocketAddress(family: .inet, address: [127, 0, 0, 1], port: 0)
            : SocketAddress(family: .inet6, address: [UInt8](repeating: 0, count: 15) + [1], port: 0)
        listener = try TCPSocket.listen(address)
        do {
            local = try TCPSocket.localAddress(of: listener)
            client = try TCPSocket.connect(local)
        } catch {
            listener.close()
            throw error
        }
        do {
            clientAddress = try TCPSocket.localAddress(of: client)
        } catch {
            client.close()
            listener.close()
            throw error
        }
    }

    deinit {
        client.close()
        listener.close()
    }
}
