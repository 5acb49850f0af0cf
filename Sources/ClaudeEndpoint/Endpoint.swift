import AgentPOSIX
import AgentProtocol
import Dispatch
import HTTPBridge
import HTTPCodec
import Synchronization

/// The local API endpoint: an HTTP/1.1 server on loopback (the bridge's server) that
/// forwards every request to the upstream API with the account's current token, as the
/// EC2 metadata server or aws-vault's server mode hand out credentials: the tools never
/// hold a token and never see one expire.
///
/// `@unchecked Sendable`: as `HTTPServer`, everything but `stop()` runs on the thread
/// that calls `run()`; exchanges run on Dispatch's threads and share only `Sendable` state.
public final class Endpoint: @unchecked Sendable {
    public let configuration: EndpointConfiguration
    public let server: HTTPServer

    /// Binds the listeners.
    /// - Parameters:
    ///   - upstream: the HTTP client for the upstream API.
    ///   - audit: where each request's audit line goes.
    /// - Throws: `EndpointError` when an address cannot be bound.
    public init(configuration: EndpointConfiguration, upstream: Upstream,
                audit: @escaping @Sendable (AuditRecord) -> Void) throws(EndpointError) {
        self.configuration = configuration
        let routes = EndpointRoutes(configuration: configuration, upstream: upstream, audit: audit)
        do throws(Errno) {
            server = try HTTPServer(listening: configuration.listen, configuration: configuration.server,
                                    streamingHandler: routes.handle)
        } catch {
            throw EndpointError("cannot listen: \(error)")
        }
    }

    /// `http://127.0.0.1:PORT` (or `http://[::1]:PORT`) for each listener.
    public var urls: [String] { server.boundAddresses.map { "http://\($0)" } }

    /// Serves until `stop()` or one of `signals`.
    public func run(signals: SignalDescriptor? = nil) throws(EndpointError) {
        do throws(Errno) {
            try server.run(signals: signals)
        } catch {
            throw EndpointError("the server failed: \(error)")
        }
    }

    /// Asks `run()` to return; safe from any thread.
    public func stop() {
        server.stop()
    }

    /// Process-wide settings: writes to vanished clients fail with EPIPE instead of
    /// killing us, and the tokens we hold stay out of core dumps.
    public static func prepareProcess() throws(Errno) {
        Signals.ignoreBrokenPipe()
        try ProcessControl.hardenAgainstMemoryDisclosure()
    }
}

/// The endpoint's one route: every request is checked, then handed to a `ProxyExchange`
/// on another thread, and answered through a stream.
final class EndpointRoutes: Sendable {
    private let configuration: EndpointConfiguration
    private let tokens: AgentTokens
    private let upstream: Upstream
    private let audit: @Sendable (AuditRecord) -> Void
    /// `pid=… exe=…` per connection: finding a peer's process scans /proc, once per
    /// connection rather than per request (the SDKs keep connections alive).
    private let callers = Mutex<[UInt64: String]>([:])
    /// Connections whose caller is remembered. Entries of closed connections are never
    /// removed one by one, so past this the memory is cleared and refilled; four times
    /// `EndpointConfiguration.maxConnections`, so that happens rarely.
    private static let maxRememberedCallers = 4 * EndpointConfiguration.maxConnections
    /// Fields only browsers send. The endpoint serves no page, so even its own origin
    /// never calls it from a browser; and a top-level navigation (which carries no
    /// `Origin`) would otherwise reach the API with the user's token. Fetch Metadata
    /// (`Sec-Fetch-*`, W3C) is sent on every request by current browsers and never by
    /// the SDKs or Claude Code.
    static let browserFields = ["Origin", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest"]

    init(configuration: EndpointConfiguration, upstream: Upstream, audit: @escaping @Sendable (AuditRecord) -> Void) {
        self.configuration = configuration
        self.upstream = upstream
        self.audit = audit
        tokens = AgentTokens(socketPath: configuration.socketPath, scopes: configuration.scopes,
                             timeoutMilliseconds: configuration.agentTimeoutMilliseconds)
    }

    /// Runs on the server's thread: checks, then hands the exchange to another thread.
    func handle(_ request: HTTPRequest, _ info: ConnectionInfo, _ server: HTTPServer) -> HTTPReply {
        if let refusal = BridgeSecurity.hostOrOriginRefusal(request, local: info.local) {
            auditRefusal(request, caller: callerDescription(info), status: 403, note: refusal.code.rawValue)
            return .response(AnthropicError.response(403, "claude-agent endpoint: \(refusal.message)"))
        }
        if let field = Self.browserFields.first(where: { request.headers[$0] != nil }) {
            auditRefusal(request, caller: callerDescription(info), status: 403, note: "browser (\(field))")
            return .response(AnthropicError.response(403, "claude-agent endpoint: requests from web browsers are refused"))
        }
        let account = HeaderRewriting.account(in: request.headers) ?? configuration.account
        let stream = server.makeStream(for: info)
        let exchange = ProxyExchange(request: request, stream: stream, account: account, tokens: tokens,
                                     upstream: upstream, configuration: configuration,
                                     caller: { [self] in callerDescription(info) }, audit: audit)
        // Never on the loop's thread, even with the token cached: the agent may be asked
        // (a refresh takes seconds), /proc scanned, and URLSession's task creation may wait
        // for its work queue, which is busy while streams arrive. (Starting cached
        // exchanges here measured no faster.)
        DispatchQueue.global().async { exchange.run() }
        return .stream(stream)
    }

    private func auditRefusal(_ request: HTTPRequest, caller: String, status: Int, note: String) {
        audit(AuditRecord(unixSeconds: Clock.unixSeconds(), caller: caller, account: "-", method: request.method,
                          path: request.path, status: status, bytesIn: request.body.count, bytesOut: 0,
                          milliseconds: 0, note: note))
    }

    private func callerDescription(_ info: ConnectionInfo) -> String {
        if let known = callers.withLock({ $0[info.id] }) { return known }
        var text = "pid=? exe=?"
        if let pid = PeerProcess.pid(ofPeer: info.peer, connectedTo: info.local) {
            let executable = (try? FileSystem.readLink("/proc/\(pid)/exe")) ?? "?"
            text = "pid=\(pid) exe=\(executable)"
        }
        callers.withLock { callers in
            if callers.count >= Self.maxRememberedCallers { callers.removeAll(keepingCapacity: true) }
            callers[info.id] = text
        }
        return text
    }
}
