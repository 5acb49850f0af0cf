import AgentCrypto

public struct PKCEError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Proof Key for Code Exchange (RFC 7636) with the S256 method, the only one we send.
public struct PKCE: Sendable, Equatable {
    public static let method = "S256"
    public let verifier: String

    /// Validates 43...128 characters of `[A-Z a-z 0-9 - . _ ~]` (RFC 7636 §4.1).
    public init(verifier: String) throws(PKCEError) {
        let bytes = Array(verifier.utf8)
        guard (43...128).contains(bytes.count) else {
            throw PKCEError(message: "a code verifier must be 43 to 128 characters, not \(bytes.count)")
        }
        let allowed = bytes.allSatisfy { byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
        }
        guard allowed else { throw PKCEError(message: "a code verifier may hold only A-Z a-z 0-9 - . _ ~") }
        self.verifier = verifier
    }

    /// A verifier from at least 32 random bytes (base64url: 43 characters, 256 bits). The
    /// caller supplies the bytes from the OS so this stays pure and testable.
    public init(randomBytes: [UInt8]) throws(PKCEError) {
        guard randomBytes.count >= 32 else { throw PKCEError(message: "a code verifier needs at least 32 random bytes") }
        try self.init(verifier: Base64URL.encode(randomBytes))
    }

    /// base64url(SHA-256(ASCII(verifier))), without padding.
    public var challenge: String { Self.challenge(for: verifier) }

    public static func challenge(for verifier: String) -> String {
        Base64URL.encode(SHA256.hash(verifier))
    }
}
