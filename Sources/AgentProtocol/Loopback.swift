/// The loopback host names, spelled as a URL's or a `Host` header's host: the bridge
/// accepts no other `Host` (DNS rebinding), and a redirect URI that is to reach a
/// listener on this machine names one of them (RFC 8252 §7.3).
public enum LoopbackHost {
    /// The name browsers resolve to this machine, without a lookup (RFC 6761 §6.3).
    public static let localhost = "localhost"
    /// Every spelling accepted: IPv4's, the name, and IPv6's in brackets (RFC 3986 §3.2.2).
    public static let names = ["127.0.0.1", localhost, "[::1]"]
}
