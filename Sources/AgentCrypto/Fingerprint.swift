/// A short, non-reversible name for a token, shown in lists and logs instead of the token:
/// "SHA256:" and the first 12 characters of base64url(SHA-256(token)), after ssh-keygen's
/// fingerprints.
public enum Fingerprint {
    public static func of(_ secret: String) -> String {
        "SHA256:" + Base64URL.encode(SHA256.hash(secret)).prefix(12)
    }
}
