import AgentProtocol
import HTTPBridge
import HTTPCodec

/// How a client's request becomes the upstream's, and the upstream's answer the client's.
public enum HeaderRewriting {
    /// The prefix of an API key that names an account: `ANTHROPIC_API_KEY=claude-agent:work`.
    public static let accountKeyPrefix = "claude-agent:"
    /// The header the Anthropic API reads beta flags from, as compared here.
    static let betaHeader = HeaderName.anthropicBeta.lowercased()

    /// Hop-by-hop fields (RFC 9110 §7.6.1) and framing fields: each side of a proxy has
    /// its own, so they are never forwarded either way.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "te", "trailer",
                                        "transfer-encoding", "upgrade", "content-length", "host", "expect",
                                        "proxy-authorization", "proxy-authenticate"]
    /// The client's credentials: whatever it holds is a placeholder and is replaced.
    static let clientCredentials: Set<String> = [HeaderName.authorization.lowercased(), HeaderName.apiKey.lowercased()]

    /// The account the client's key names (`claude-agent:NAME` or `claude-agent:ID`, as
    /// `x-api-key` or as a Bearer token), or nil when its key names none.
    public static func account(in headers: HTTPHeaders) -> AccountReference? {
        var keys = headers.values(HeaderName.apiKey)
        for value in headers.values(HeaderName.authorization) {
            let parts = value.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { keys.append(String(parts[1])) }
        }
        for key in keys where key.hasPrefix(accountKeyPrefix) {
            let name = String(key.dropFirst(accountKeyPrefix.count))
            if !name.isEmpty, let reference = AccountReference(.string(name)) { return reference }
        }
        return nil
    }

    /// The upstream's header fields: the client's minus hop-by-hop fields, credentials and
    /// `Accept-Encoding` (the HTTP client negotiates its own and decodes), plus the token
    /// and the provider's headers. The provider's `anthropic-beta` flags are added to the
    /// client's, not put in their place: Claude Code sends flags of its own.
    public static func upstreamHeaders(from headers: HTTPHeaders, token: EndpointToken) -> [(name: String, value: String)] {
        let named = connectionOptions(headers)
        var result: [(name: String, value: String)] = []
        var betaFlags: [String] = []
        for (name, value) in headers {
            let lowered = name.lowercased()
            if hopByHop.contains(lowered) || clientCredentials.contains(lowered) || named.contains(lowered)
                || lowered == "accept-encoding" {
                continue
            }
            if lowered == betaHeader {
                betaFlags += splitList(value)
                continue
            }
            if token.headers.contains(where: { $0.name.lowercased() == lowered }) { continue }
            result.append((name, value))
        }
        for (name, value) in token.headers {
            if name.lowercased() == betaHeader {
                betaFlags += splitList(value)
            } else {
                result.append((name, value))
            }
        }
        var seen = Set<String>()
        let merged = betaFlags.filter { seen.insert($0).inserted }
        if !merged.isEmpty { result.append((betaHeader, merged.joined(separator: ","))) }
        result.append((HeaderName.authorization, "Bearer \(token.accessToken)"))
        return result
    }

    /// The client's header fields of the upstream's answer: hop-by-hop and framing ones
    /// dropped (the server frames its own), `Content-Encoding` too since the body arrives
    /// decoded.
    public static func clientHeaders(from headers: [(name: String, value: String)]) -> HTTPHeaders {
        var result = HTTPHeaders()
        for (name, value) in headers {
            let lowered = name.lowercased()
            if hopByHop.contains(lowered) || lowered == "content-encoding" || lowered == "date" { continue }
            result.append(name, value)
        }
        return result
    }

    /// Fields the client's `Connection` header names as hop-by-hop (RFC 9110 §7.6.1).
    static func connectionOptions(_ headers: HTTPHeaders) -> Set<String> {
        var named = Set<String>()
        for value in headers.values("Connection") {
            for option in value.split(separator: ",") { named.insert(trimmedLower(option)) }
        }
        return named
    }

    static func splitList(_ value: String) -> [String] {
        value.split(separator: ",").map { trimmedLower($0) }.filter { !$0.isEmpty }
    }

    private static func trimmedLower(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()).lowercased()
    }
}
