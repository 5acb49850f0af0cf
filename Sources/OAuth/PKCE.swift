// Proof Key for Code Exchange (RFC 7636) with the S256 method.
import AgentCrypto

/// A PKCE code verifier and its S256 challenge.
public struct PKCE: Sendable, Equatable {
    /// The secret sent with the token request.
    public let verifier: String

    /// base64url(SHA-256(ASCII verifier)), no padding; sent with the
    /// authorization request.
    public var challenge: String { PKCE.challenge(for: verifier) }

    /// The only method this client uses.
    public static let method = "S256"

    /// Allowed verifier lengths (RFC 7636 §4.1).
    public static let verifierLength = 43 ... 128

    /// Random bytes a verifier may be made of: fewer than 32 (256 bits, RFC 7636 §7.1's
    /// recommendation) is too little entropy, more than 96 encode to more than 128 characters.
    public static let randomByteCount = 32 ... 96

    /// Validates 43...128 chars of [A-Z a-z 0-9 - . _ ~]; throws PKCEError otherwise.
    public init(verifier: String) throws(PKCEError) {
        let bytes = verifier.utf8
        guard PKCE.verifierLength.contains(bytes.count) else {
            let range = PKCE.verifierLength
            throw PKCEError(message: "PKCE verifier must be \(range.lowerBound) to \(range.upperBound) characters, got \(bytes.count)")
        }
        for b in bytes where !PKCE.isUnreserved(b) {
            throw PKCEError(message: "PKCE verifier contains a character outside [A-Za-z0-9-._~]")
        }
        self.verifier = verifier
    }

    /// A verifier from random bytes: base64url of all of them (32 bytes give
    /// the usual 43 characters). The caller supplies the bytes (from the OS
    /// RNG) so this stays pure and testable. Requires `randomByteCount` bytes.
    public init(randomBytes: [UInt8]) throws(PKCEError) {
        let range = PKCE.randomByteCount
        guard randomBytes.count >= range.lowerBound else {
            throw PKCEError(message: "PKCE verifier needs at least \(range.lowerBound) random bytes, got \(randomBytes.count)")
        }
        guard randomBytes.count <= range.upperBound else {
            throw PKCEError(message: "PKCE verifier takes at most \(range.upperBound) random bytes, got \(randomBytes.count)")
        }
        try self.init(verifier: Base64URL.encode(randomBytes))
    }

    /// The S256 challenge for `verifier` (not validated here).
    public static func challenge(for verifier: String) -> String {
        Base64URL.encode(SHA256.hash(verifier))
    }

    static func isUnreserved(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A") ... UInt8(ascii: "Z"),
             UInt8(ascii: "a") ... UInt8(ascii: "z"),
             UInt8(ascii: "0") ... UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}

/// Why a PKCE verifier was rejected.
public struct PKCEError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
