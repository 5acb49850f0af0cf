import AgentPOSIX

/// Which process holds the client end of a loopback TCP connection, so requests made over
/// HTTP are attributed to their caller, as requests on the socket are (SO_PEERCRED).
///
/// The kernel names the client's socket by inode (socket diagnostics); the process is the
/// one with a descriptor linking to `socket:[inode]`. Only our own user's processes can
/// be read, and only those are served, so the scan stays small. Run once per request
/// created, never per connection.
public enum PeerProcess {
    public static func pid(ofPeer peer: SocketAddress, connectedTo local: SocketAddress) -> Int32? {
        guard let info = try? SocketDiagnostics.tcpSocket(local: peer, remote: local), info.inode != 0,
              let entries = try? FileSystem.listDirectory("/proc")
        else { return nil }
        let target = "socket:[\(info.inode)]"
        let ourUID = ProcessControl.effectiveUID
        for entry in entries {
            guard let pid = Int32(entry), pid != ProcessControl.currentPID,
                  (try? FileSystem.status("/proc/\(entry)"))?.ownerUID == ourUID || ourUID == 0,
                  let descriptors = try? FileSystem.listDirectory("/proc/\(entry)/fd")
            else { continue }
            for descriptor in descriptors where (try? FileSystem.readLink("/proc/\(entry)/fd/\(descriptor)")) == target {
                return pid
            }
        }
        return nil
    }
}
