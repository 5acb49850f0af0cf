import AgentCrypto
import AgentPOSIX

/// `agent.lock` / `agent.unlock`: while locked, no token is handed out (as ssh-agent).
///
/// Only a salted, iterated hash of the passphrase is kept, compared in constant time.
struct LockState {
    private var salt: [UInt8] = []
    private var digest: [UInt8]?
    /// Failed unlocks since the last success; each one delays the next answer more.
    private(set) var failures: Int64 = 0

    var isLocked: Bool { digest != nil }

    /// Random bytes salting each lock's hash, so two locks with one passphrase differ.
    private static let saltBytes = 16
    /// SHA-256 rounds over salt and passphrase: the hash never leaves the process, so this
    /// only slows a guess from a memory dump, without a lock or unlock taking noticeable time.
    private static let hashRounds = 1000

    mutating func lock(passphrase: String) throws(Errno) {
        salt = try RandomBytes.generate(Self.saltBytes)
        digest = Self.hash(passphrase, salt: salt)
        failures = 0
    }

    /// Unlocks when the passphrase matches; returns whether it did.
    mutating func unlock(passphrase: String) -> Bool {
        guard let digest else { return false }
        if constantTimeEqual(Self.hash(passphrase, salt: salt), digest) {
            self.digest = nil
            failures = 0
            return true
        }
        failures += 1
        return false
    }

    private static func hash(_ passphrase: String, salt: [UInt8]) -> [UInt8] {
        var value = SHA256.hash(salt + Array(passphrase.utf8))
        for _ in 0..<Self.hashRounds { value = SHA256.hash(salt + value) }
        return value
    }
}
