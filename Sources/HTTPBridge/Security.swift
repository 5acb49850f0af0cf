import AgentPOSIX
import AgentProtocol
import HTTPCodec

/// The checks every request passes before a route sees it.
///
/// The bridge listens on loopback only, but a loopback port is reachable from every web
/// page the user's browser opens. So:
/// - `Host` must name us (127.0.0.1, localhost or [::1] with our port): a page on a
///   rebinding domain (DNS rebinding) sends its own name and is refused;
/// - an `Origin` header, which browsers attach to every cross-origin request and every
///   POST, must be our own origin: other pages cannot drive the API even blind;
/// - routes that approve or deny (and the lists that show who asks) need the bridge
///   secret, as a Bearer token or as a cookie the approval page got once through
///   `/?token=`, as Jupyter does. Comparison is constant-time.
public struct BridgeSecurity: Sendable {
    public static let cookieName = "claude_agent_bridge"

    public let secret: BridgeSecret

    public init(secret: BridgeSecret) {
        self.secret = secret
    }

    // MARK: Host and Origin

    /// Whether a `Host` value names this bridge as reached at `local` (the address the
    /// client connected to): 127.0.0.1, localhost, [::1] or that address itself, with its
    /// port.
    public func isAllowedHost(_ host: String, local: SocketAddress) -> Bool {
        Self.isLoopbackHost(host, local: local)
    }

    /// Whether an `Origin` value is one of our own origins.
    public func isAllowedOrigin(_ origin: String, local: SocketAddress) -> Bool {
        Self.isOwnOrigin(origin, local: local)
    }

    /// The `Host` rule, for every loopback server of the package (the bridge, the API
    /// endpoint): a name of this machine's loopback with the port the client connected to.
    public static func isLoopbackHost(_ host: String, local: SocketAddress) -> Bool {
        let lowered = host.lowercased()
        let names = LoopbackHost.names + [local.family == .inet ? local.host : "[\(local.host)]"]
        for name in names {
            if lowered == "\(name):\(local.port)" { return true }
            if local.port == 80 && lowered == name { return true }  // the default port may be left out
        }
        return false
    }

    /// The `Origin` rule: only a page served by this very server.
    public static func isOwnOrigin(_ origin: String, local: SocketAddress) -> Bool {
        let lowered = origin.lowercased()
        guard lowered.hasPrefix("http://") else { return false }
        return isLoopbackHost(String(lowered.dropFirst(7)), local: local)
    }

    /// Why a request fails the `Host` or `Origin` rule (a stable code and a message), or
    /// nil when it passes.
    public static func hostOrOriginRefusal(_ request: HTTPRequest, local: SocketAddress) -> (code: HTTPErrorCode, message: String)? {
        guard let host = request.headers["Host"], isLoopbackHost(host, local: local) else {
            return (.forbiddenHost, "the Host header must be 127.0.0.1, localhost or [::1] with the server's port")
        }
        for origin in request.headers.values("Origin") where !isOwnOrigin(origin, local: local) {
            return (.forbiddenOrigin, "requests from other web origins are refused")
        }
        return nil
    }

    /// A 403 when `Host` or `Origin` is not ours, else nil.
    public func checkHostAndOrigin(_ request: HTTPRequest, local: SocketAddress) -> HTTPResponse? {
        Self.hostOrOriginRefusal(request, local: local).map { HTTPResponse.error(403, $0.code, $0.message) }
    }

    // MARK: The secret

    /// Whether the request carries the secret, as `Authorization: Bearer` or as our cookie.
    public func isAuthorized(_ request: HTTPRequest) -> Bool {
        for value in request.headers.values(HeaderName.authorization) {
            let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            if parts.count == 2, parts[0].lowercased() == "bearer", secret.matches(trimmed(parts[1])) { return true }
        }
        return Self.cookies(in: request).contains { $0.name == Self.cookieName && secret.matches($0.value) }
    }

    /// `Set-Cookie` for the approval page: the secret, never readable by scripts
    /// (`HttpOnly`), never sent by other sites' requests (`SameSite=Strict`).
    public var sessionCookie: String {
        "\(Self.cookieName)=\(secret.value); HttpOnly; SameSite=Strict; Path=/"
    }

    /// Every `name=value` pair of the `Cookie` headers (RFC 6265 §5.4), in order.
    static func cookies(in request: HTTPRequest) -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        for header in request.headers.values("Cookie") {
            for item in header.split(separator: ";") {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { continue }
                var value = trimmed(parts[1])
                if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
                pairs.append((trimmed(parts[0]), value))
            }
        }
        return pairs
    }
}
