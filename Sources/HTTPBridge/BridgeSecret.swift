import AgentCrypto
import AgentPOSIX
import Glibc

/// The bridge's one piece of state: a random secret that approvers present, kept in
/// `bridge.token` beside the agent's socket so that programs of the same user (the
/// control browser, scripts) can read it and no one else can.
public struct BridgeSecret: Sendable {
    /// 32 random bytes, base64url without padding (43 characters).
    public let value: String

    public init(value: String) {
        self.value = value
    }

    /// A fresh secret from the kernel's random source.
    public static func generate() throws(Errno) -> BridgeSecret {
        BridgeSecret(value: Base64URL.encode(try RandomBytes.generate(POSIXLimits.secretRandomBytes)))
    }

    public static let fileName = "bridge.token"

    /// `bridge.token` in the directory of the agent's socket.
    public static func path(besideSocket socketPath: String) -> String {
        "\(FileSystem.directoryName(socketPath))/\(fileName)"
    }

    /// Writes the secret and a newline to `path`, mode 0600, through a new file
    /// (`O_CREAT | O_EXCL`) renamed into place, so no one ever reads a partial or
    /// more open file.
    /// - Throws: when the directory is missing, is not a directory we own, or others
    ///   may write to it (they could swap the file), or when writing fails.
    public func write(to path: String) throws(BridgeError) {
        let directory = FileSystem.directoryName(path)
        let status: FileSystem.Status
        do throws(Errno) {
            status = try FileSystem.status(directory)
        } catch {
            throw BridgeError("cannot use \(directory) for \(Self.fileName): \(error); start the agent first (claude-agent start)")
        }
        guard status.isDirectory else { throw BridgeError("\(directory) is not a directory") }
        let ours = ProcessControl.effectiveUID
        guard status.ownerUID == ours else {
            throw BridgeError("\(directory) belongs to uid \(status.ownerUID), not to us (uid \(ours))")
        }
        guard status.permissions & 0o022 == 0 else {
            throw BridgeError("\(directory) may be written by others (mode \(String(status.permissions, radix: 8)))")
        }
        do throws(Errno) {
            try FileSystem.replaceAtomically(path, with: Array((value + "\n").utf8))
        } catch {
            throw BridgeError("cannot write \(path): \(error)")
        }
    }

    /// The most bytes read of a secret file to compare: a secret is 43 characters, and a
    /// longer file is not one this bridge wrote.
    static let maxFileBytes = 4096

    /// Removes `path` if it still holds this secret (another bridge may have replaced it).
    public func remove(from path: String) {
        guard let content = try? FileSystem.readFile(path, limit: Self.maxFileBytes) else { return }
        let text = String(decoding: content, as: UTF8.self)
        if text == value + "\n" || text == value { try? FileSystem.removeFile(path) }
    }

    /// Whether `candidate` is the secret, in time independent of where they differ.
    public func matches(_ candidate: some StringProtocol) -> Bool {
        constantTimeEqual(Array(candidate.utf8), Array(value.utf8))
    }
}
