import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient
import HTTPBridge

/// How to run the local API endpoint.
public struct EndpointConfiguration: Sendable {
    /// Where the endpoint listens when not told: a port of its own beside the bridge's 7777.
    public static let defaultListen = SocketAddress(family: .inet, address: [127, 0, 0, 1], port: 7778)
    /// The Anthropic API, where the built-in `claude` provider's tokens are used.
    public static let defaultUpstream = AnthropicAPI.baseURL
    /// A Messages request is at most 32 MB (the API's documented request size limit); a
    /// larger body is refused before it is read, as the API would refuse it.
    public static let maxRequestBodyBytes = 32 * 1024 * 1024
    /// The SDKs' own default time-out for one request is 10 minutes (a long non-streamed
    /// answer sends nothing until it is done), so the upstream may be silent that long.
    public static let defaultUpstreamTimeoutMilliseconds: Int64 = 600_000
    /// Bytes of an answer a client may leave unread before it is dropped. URLSession on
    /// Linux cannot pause a transfer (its libcurl layer traps on "pausing receive"), so an
    /// upstream is never slowed to the client's pace: a client up to this far behind keeps
    /// its answer, past it the connection closes and the upstream exchange is cancelled.
    /// Messages streams arrive at a few KB/s and never come near it; a fast local client
    /// reading a bulk answer (batch results) stays within it.
    public static let maxClientBacklogBytes = 32 << 20
    /// Bytes of a request's line and header fields: Claude Code and the SDKs send a few
    /// dozen (`anthropic-*`, `x-stainless-*`), more than the bridge's 8 KiB allows for.
    public static let maxHeadBytes = 32 * 1024
    /// Open client connections; one more is answered 503. Each may hold a request body of
    /// up to `maxRequestBodyBytes`, so fewer than the bridge allows keep the worst case
    /// bounded (256 × 32 MB is not, but bodies that size are read in 10 s each and freed
    /// as soon as they are forwarded).
    public static let maxConnections = 256
    /// The range accepted for `--upstream-timeout`, in seconds.
    public static let upstreamTimeoutSecondsRange: ClosedRange<Int64> = 1...3600

    /// Loopback addresses to listen on.
    public var listen: [SocketAddress]
    /// The agent's socket.
    public var socketPath: String
    /// The account used when the client's key names none; nil for the agent's default.
    public var account: AccountReference?
    /// Scheme, host and optional port (and base path) requests are forwarded to.
    public var upstream: UpstreamURL
    /// How long the upstream may stay silent (before its answer's head, or between two
    /// pieces of its body) before the exchange is given up.
    public var upstreamTimeoutMilliseconds = EndpointConfiguration.defaultUpstreamTimeoutMilliseconds
    /// Scopes asked of the agent for each token.
    public var scopes = ["user:inference"]
    /// How long one agent call may take (a refresh included).
    public var agentTimeoutMilliseconds = AgentClient.defaultTimeoutMilliseconds
    public var server: HTTPServerConfiguration

    public init(socketPath: String, upstream: UpstreamURL, listen: [SocketAddress] = [EndpointConfiguration.defaultListen]) {
        self.socketPath = socketPath
        self.upstream = upstream
        self.listen = listen
        var server = HTTPServerConfiguration()
        server.limits.maxBodyBytes = Self.maxRequestBodyBytes
        server.limits.maxHeadBytes = Self.maxHeadBytes
        server.maxConnections = Self.maxConnections
        server.maxStreamBacklog = Self.maxClientBacklogBytes
        server.errorResponse = { status, _, message in AnthropicError.response(status, message) }
        self.server = server
    }
}

/// The upstream's base URL, checked at the door.
public struct UpstreamURL: Sendable, Equatable, CustomStringConvertible {
    /// `http` or `https`.
    public let scheme: String
    /// `host` or `host:port`, as it goes into the URL.
    public let authority: String
    /// A base path without a trailing slash (usually empty).
    public let basePath: String

    /// Parses `https://host[:port][/base]`.
    /// - Throws: `EndpointError` (usage) for another scheme, a missing host, a query, or
    ///   plain `http` to anything but loopback: a token must not cross a network in clear.
    public init(_ text: String) throws(EndpointError) {
        let lowered = text.lowercased()
        let scheme: String
        if lowered.hasPrefix("https://") {
            scheme = "https"
        } else if lowered.hasPrefix("http://") {
            scheme = "http"
        } else {
            throw EndpointError("--upstream needs an https:// URL (or http:// to a loopback address), not \"\(text)\"", isUsage: true)
        }
        var rest = String(text.dropFirst(scheme.count + 3))
        guard !rest.contains("?"), !rest.contains("#"), !rest.contains("@") else {
            throw EndpointError("--upstream takes a base URL without query, fragment or user info: \"\(text)\"", isUsage: true)
        }
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = String(rest[..<slash])
        }
        while path.hasSuffix("/") { path.removeLast() }
        guard !rest.isEmpty, rest.allSatisfy({ $0.isLetter || $0.isNumber || "-.:[]_".contains($0) }) else {
            throw EndpointError("--upstream \"\(text)\" has no valid host", isUsage: true)
        }
        if scheme == "http" {
            let host = Self.hostPart(of: rest).lowercased()
            let octets = host.split(separator: ".", omittingEmptySubsequences: false).map { UInt8($0) }
            let loopbackIPv4 = octets.count == 4 && !octets.contains(nil) && octets[0] == 127
            let loopback = LoopbackHost.names.contains(host) || loopbackIPv4
            guard loopback else {
                throw EndpointError("--upstream \(text): plain http would send the token in clear; use https (http is for loopback only)",
                                    isUsage: true)
            }
        }
        self.scheme = scheme
        self.authority = rest
        self.basePath = path
    }

    private static func hostPart(of authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[...close])
        }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? "")
    }

    /// The upstream URL of a request target (`/v1/messages?beta=true`).
    public func url(for target: String) -> String {
        "\(scheme)://\(authority)\(basePath)\(target)"
    }

    public var description: String { "\(scheme)://\(authority)\(basePath)" }
}

/// A failure to start or configure the endpoint; `isUsage` marks a bad command line.
public struct EndpointError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let isUsage: Bool

    public init(_ message: String, isUsage: Bool = false) {
        self.message = message
        self.isUsage = isUsage
    }

    public var description: String { message }
}
