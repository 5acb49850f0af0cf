/// The HTTP header field names that more than one target writes or reads, declared once.
/// Field names are case-insensitive (RFC 9110 §5.1): compare them with `lowercased()`.
public enum HeaderName {
    /// The request's credentials (RFC 9110 §11.6.2): `Bearer <token>` for the API and the
    /// bridge, `Basic` client authentication at a token endpoint (RFC 6749 §2.3.1).
    public static let authorization = "Authorization"
    /// The Anthropic API's key header, the alternative to a Bearer token.
    public static let apiKey = "x-api-key"
    /// The header the Anthropic API reads beta flags from; its value is a comma-separated
    /// list (`oauth-2025-04-20` lets an OAuth access token in).
    public static let anthropicBeta = "anthropic-beta"
}
