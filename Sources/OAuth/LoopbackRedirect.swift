import AgentProtocol

/// A loopback redirect URI (RFC 8252 §7.3): `http` to `127.0.0.1`, `localhost` or `[::1]`,
/// a port, and a path. The agent checks what a client offers against a provider's
/// configured one with it, and the command line listens where it says, so the URI in an
/// authorize URL is always one that something we run serves.
///
/// A configured URI may leave the port out (`http://localhost/callback`): RFC 8252 §7.3
/// has the authorization server allow any port for loopback redirects, and the client
/// then listens on any free one. Queries and fragments are not part of this form.
public struct LoopbackRedirect: Equatable, Sendable, CustomStringConvertible {
    /// As written: `127.0.0.1`, `localhost` or `[::1]`.
    public var host: String
    /// nil only in a configured URI that names no port.
    public var port: UInt16?
    /// Starts with "/"; "/" when the URI has none.
    public var path: String

    public init(host: String, port: UInt16?, path: String) {
        self.host = host
        self.port = port
        self.path = path
    }

    /// Parses `text`; nil when it is not an `http` loopback URI of this form.
    public init?(_ text: String) {
        let scheme = "http://"
        guard text.hasPrefix(scheme) else { return nil }
        let rest = text.dropFirst(scheme.count)
        guard !rest.contains("?"), !rest.contains("#") else { return nil }
        let authority = rest.prefix { $0 != "/" }
        let pathPart = rest.dropFirst(authority.count)
        var hostPart = authority
        var port: UInt16?
        if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]") {
            let digits = authority[authority.index(after: colon)...]
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                  let number = UInt16(digits), number > 0 else { return nil }
            port = number
            hostPart = authority[..<colon]
        }
        guard LoopbackHost.names.contains(String(hostPart)) else { return nil }
        self.init(host: String(hostPart), port: port, path: pathPart.isEmpty ? "/" : String(pathPart))
    }

    /// Whether `uri` is a loopback redirect a client may offer: of this form, with a port.
    public static func isValid(_ uri: String) -> Bool {
        LoopbackRedirect(uri)?.port != nil
    }

    /// The URI, with `port` filled in when this one names none.
    public func uri(port given: UInt16? = nil) -> String {
        let number = port ?? given
        return "http://\(host)\(number.map { ":\($0)" } ?? "")\(path)"
    }

    public var description: String { uri() }

    /// The address to listen on: `localhost` is 127.0.0.1 (what browsers try first for it
    /// that we can serve without a second socket); port 0 asks for any free one.
    public var listenHost: String { host == LoopbackHost.localhost ? "127.0.0.1" : host }

    /// Whether a client's `offered` URI may stand for this configured one: the same host
    /// and path, and the same port when this one names a port.
    public func admits(_ offered: LoopbackRedirect) -> Bool {
        offered.host == host && offered.path == path && offered.port != nil && (port == nil || offered.port == port)
    }
}
