import AgentPOSIX
import Glibc

/// The private directory that holds the socket, and the socket file itself.
enum SocketDirectory {
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// Creates `path` with mode 0700 (given to mkdir itself, so it is never more open), or
    /// checks that an existing one is a directory of ours that no one else can enter.
    /// Returns the path when we created it (so we remove it at exit).
    static func prepare(_ path: String) throws -> String? {
        switch Result(catching: { () throws(Errno) in try FileSystem.makeDirectory(path, mode: 0o700) }) {
        case .success:
            return path
        case .failure(let error) where error != .fileExists:
            throw error
        case .failure:
            break
        }
        let status = try FileSystem.status(path)
        let uid = ProcessControl.effectiveUID
        guard status.isDirectory else {
            throw Refusal(description: "refusing to use \(path): it exists and is not a directory")
        }
        guard status.ownerUID == uid else {
            throw Refusal(description: "refusing to use \(path): owned by uid \(status.ownerUID), not \(uid)")
        }
        guard status.permissions & 0o077 == 0 else {
            let mode = String(status.permissions, radix: 8)
            throw Refusal(description: "refusing to use \(path): its mode is 0\(mode); it must be 0700")
        }
        return nil
    }

    /// Never clobbers a live agent; replaces a stale socket file nothing listens on.
    static func clearStaleSocket(at path: String) throws {
        let status: FileSystem.Status
        switch Result(catching: { () throws(Errno) in try FileSystem.status(path) }) {
        case .success(let found): status = found
        case .failure(let error) where error == .noSuchFile: return
        case .failure(let error): throw error
        }
        guard status.isSocket else {
            throw Refusal(description: "refusing to replace \(path): it exists and is not a socket")
        }
        if UnixSocket.isLive(path: path) {
            throw Refusal(description: "an agent is already listening on \(path)")
        }
        Log.info("replacing stale socket \(path)")
        try FileSystem.removeFile(path)
    }
}
