/// Short, non-reversible names for secrets.
public enum Fingerprint {
    /// "SHA256:" + first 12 chars of base64url(SHA-256(secret)), a short
    /// non-reversible name for a token shown in lists and logs instead of
    /// the token. 12 base64url characters carry 72 bits: plenty to tell a
    /// user's tokens apart, far too few to help recover the token.
    public static func of(_ secret: String) -> String {
        "SHA256:" + String(Base64URL.encode(SHA256.hash(secret)).prefix(12))
    }
}
