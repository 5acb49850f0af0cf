import AgentProtocol

/// Where a provider sends the browser back after the user consents, as a provider
/// configures it: data, so that each provider's registered redirect URIs are a setting.
///
/// - A loopback `http` URI without a port (`http://localhost/callback`) means any port:
///   the login client listens on a free one and the URI sent carries it (RFC 8252 §7.3,
///   and how Claude's service registers Claude Code: `http://localhost:<any port>/callback`,
///   anthropics/claude-code #36015).
/// - A loopback URI with a port is that port exactly, for providers that registered one.
/// - Any other URI is a page of the provider's that shows the code for the user to paste
///   (Claude's `https://platform.claude.com/oauth/code/callback` shows `code#state`).
public enum RedirectTarget: Sendable, Equatable, CustomStringConvertible {
    /// `host` is `localhost`, `127.0.0.1` or `[::1]` as written; `port` nil is any port.
    case loopback(host: String, port: UInt16?, path: String)
    case external(String)

    /// RFC 8252 §7.3's form, used by providers that configure no redirect URI.
    public static let rfc8252 = RedirectTarget.loopback(host: "127.0.0.1", port: nil, path: "/oauth/callback")

    /// The loopback hosts a native app may listen on (RFC 8252 §7.3 and §8.3).
    public static let loopbackHosts = ["localhost", "127.0.0.1", "[::1]"]

    /// Reads a configured redirect URI: `http://<loopback host>[:port][/path]` is
    /// `.loopback` (path `/` when absent; a query or fragment makes it `.external`, since a
    /// listener matches paths only), any other `http`/`https` URI is `.external`, anything
    /// else nil. Port 0 counts as no port.
    public init?(_ uri: String) {
        guard AgentSettings.isHTTPURL(uri) else { return nil }
        guard uri.hasPrefix("http://"), !uri.contains("?"), !uri.contains("#") else {
            self = .external(uri)
            return
        }
        let rest = uri.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...].isEmpty ? "/" : String(rest[authorityEnd...])
        var host = Substring(authority)
        var port: UInt16?
        if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]") {
            host = authority[..<colon]
            guard let number = UInt16(authority[authority.index(after: colon)...]) else { return nil }
            port = number == 0 ? nil : number
        }
        let lowered = host.lowercased()
        guard Self.loopbackHosts.contains(lowered) else {
            self = .external(uri)
            return
        }
        self = .loopback(host: lowered, port: port, path: path)
    }

    /// The URI to send for a listener on `port` (loopback), or the URI itself (external).
    /// A fixed port wins over `port`.
    public func uri(port: UInt16) -> String {
        switch self {
        case .loopback(let host, let fixed, let path): return "http://\(host):\(fixed ?? port)\(path)"
        case .external(let uri): return uri
        }
    }

    /// Whether a concrete redirect URI a client chose fits this target: same host and path,
    /// and the fixed port when there is one. An external target accepts only itself.
    public func accepts(_ uri: String) -> Bool {
        guard let given = RedirectTarget(uri) else { return false }
        switch (self, given) {
        case (.loopback(let host, let port, let path), .loopback(let givenHost, let givenPort?, let givenPath)):
            return host == givenHost && path == givenPath && (port == nil || port == givenPort)
        case (.external(let own), .external(let other)):
            return own == other
        default:
            return false
        }
    }

    public var description: String {
        switch self {
        case .loopback(let host, let port, let path): return "http://\(host)\(port.map { ":\($0)" } ?? ":<any port>")\(path)"
        case .external(let uri): return uri
        }
    }
}

/// The redirect a login uses, as the agent decides it from the provider's targets.
public struct RedirectChoice: Sendable, Equatable {
    /// The `redirect_uri` sent to the provider (and repeated in the code exchange).
    public var uri: String
    /// The loopback port the login client must listen on, with `path`; nil when the
    /// provider shows the code on its own page instead.
    public var listenPort: UInt16?
    public var listenHost: String?
    public var listenPath: String?
    /// The user will paste the code (or the URL the browser ends on).
    public var paste: Bool

    public init(uri: String, listenPort: UInt16?, listenHost: String?, listenPath: String?, paste: Bool) {
        self.uri = uri
        self.listenPort = listenPort
        self.listenHost = listenHost
        self.listenPath = listenPath
        self.paste = paste
    }
}

extension ProviderConfiguration {
    /// The provider's automatic redirect target: its configured `redirect_uri`, or RFC
    /// 8252's loopback form when it has none.
    public var redirectTarget: RedirectTarget {
        redirectURI.flatMap(RedirectTarget.init) ?? .rfc8252
    }

    /// Chooses the redirect for one login.
    ///
    /// - `manual` (no browser on this machine, or `--no-browser`): the provider's
    ///   `manual_redirect_uri` when it has one, a page that shows the code to paste.
    ///   Otherwise the automatic target is used and the user pastes the URL the browser
    ///   ends on.
    /// - An external automatic target: that page; the user pastes.
    /// - A loopback target: its fixed port, or `listenerPort`, the port the client already
    ///   listens on; the client must then listen on the answer's port and path.
    /// - Throws: a message when the target needs a port and none was given.
    public func redirect(manual: Bool, listenerPort: UInt16?) throws(RedirectError) -> RedirectChoice {
        if manual, let page = manualRedirectURI {
            return RedirectChoice(uri: page, listenPort: nil, listenHost: nil, listenPath: nil, paste: true)
        }
        switch redirectTarget {
        case .external(let uri):
            return RedirectChoice(uri: uri, listenPort: nil, listenHost: nil, listenPath: nil, paste: true)
        case .loopback(let host, let fixed, let path):
            guard let port = fixed ?? listenerPort else {
                throw RedirectError(message: "provider \(name) redirects to \(redirectTarget), so the login client must say which port it listens on")
            }
            return RedirectChoice(uri: redirectTarget.uri(port: port), listenPort: port, listenHost: host, listenPath: path, paste: manual)
        }
    }
}

/// Why no redirect URI could be chosen.
public struct RedirectError: Error, Sendable, Equatable {
    public var message: String
}
