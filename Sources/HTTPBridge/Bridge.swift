import AgentPOSIX
import ClaudeAgentClient
import Glibc

/// How to run a bridge.
public struct BridgeConfiguration: Sendable {
    /// Loopback addresses to listen on (127.0.0.1:7777 by default, where the original
    /// router listened and where the agent sends the provider's redirect).
    public var listen: [SocketAddress]
    /// The agent's socket; `bridge.token` goes beside it.
    public var socketPath: String
    public var server = HTTPServerConfiguration()
    /// How long one agent call may take.
    public var agentTimeoutMilliseconds = AgentClient.defaultTimeoutMilliseconds

    public static let defaultListen = SocketAddress(family: .inet, address: [127, 0, 0, 1], port: 7777)

    public init(listen: [SocketAddress] = [BridgeConfiguration.defaultListen], socketPath: String) {
        self.listen = listen
        self.socketPath = socketPath
    }

    /// Every `--listen` value given, in order (see `listenAddress(_:)`); empty when none is.
    /// - Throws: the first value's usage `BridgeError`.
    public static func listenAddresses(_ texts: [String]) throws(BridgeError) -> [SocketAddress] {
        var addresses: [SocketAddress] = []
        for text in texts { addresses.append(try listenAddress(text)) }
        return addresses
    }

    /// Parses a `--listen` value: `127.0.0.1:7777`, `[::1]:7777`, `localhost:7777`
    /// (IPv4), or a bare port on 127.0.0.1.
    /// - Throws: a usage `BridgeError` for anything else, and for any address that is not
    ///   loopback: the bridge's API hands out tokens and must not face a network.
    public static func listenAddress(_ text: String) throws(BridgeError) -> SocketAddress {
        let address: SocketAddress?
        if let port = UInt16(text) {
            address = SocketAddress(family: .inet, address: [127, 0, 0, 1], port: port)
        } else {
            address = SocketAddress(parsing: text)
        }
        guard let address else {
            throw BridgeError("--listen needs ADDRESS:PORT such as 127.0.0.1:7777 or [::1]:7777, not \"\(text)\"", isUsage: true)
        }
        guard address.isLoopback else {
            throw BridgeError("--listen \(text): only loopback addresses are served (127.0.0.1 or [::1])", isUsage: true)
        }
        return address
    }
}

/// The bridge: an HTTP/1.1 server on loopback that turns the original router's API, the
/// approval page and the OAuth callback into agent operations.
///
/// It holds no state but its secret: every request is answered by asking the agent, so a
/// restarted bridge loses nothing and a restarted agent is found again on the next call.
///
/// `@unchecked Sendable`: as `HTTPServer`, everything but `stop()` runs on the thread
/// that calls `run()`.
public final class Bridge: @unchecked Sendable {
    public let configuration: BridgeConfiguration
    public let server: HTTPServer
    public let secret: BridgeSecret
    /// Where the secret was written.
    public let tokenPath: String

    /// Binds the listeners, makes the secret and writes it to `bridge.token`.
    /// - Throws: `BridgeError` when an address cannot be bound or the file not written.
    public init(configuration: BridgeConfiguration) throws(BridgeError) {
        self.configuration = configuration
        do throws(Errno) {
            secret = try BridgeSecret.generate()
        } catch {
            throw BridgeError("cannot make the bridge secret: \(error)")
        }
        let routes = BridgeRoutes(agent: AgentSocketCaller(socketPath: configuration.socketPath,
                                                            timeoutMilliseconds: configuration.agentTimeoutMilliseconds),
                                  security: BridgeSecurity(secret: secret))
        do throws(Errno) {
            server = try HTTPServer(listening: configuration.listen, configuration: configuration.server,
                                    handler: routes.handle)
        } catch {
            throw BridgeError("cannot listen: \(error)", code: .listenFailed)
        }
        tokenPath = BridgeSecret.path(besideSocket: configuration.socketPath)
        try secret.write(to: tokenPath)
    }

    /// `http://127.0.0.1:PORT` (or `http://[::1]:PORT`) for each listener.
    public var urls: [String] { server.boundAddresses.map { "http://\($0)" } }

    /// The approval page with the secret in its query, to open once in a browser.
    public var pageURL: String { "\(urls[0])/?token=\(secret.value)" }

    /// Process-wide settings for a bridge process: writes to vanished clients fail with
    /// EPIPE instead of killing us, and the secret stays out of core dumps.
    public static func prepareProcess() throws(Errno) {
        Signals.ignoreBrokenPipe()
        try ProcessControl.hardenAgainstMemoryDisclosure()
    }

    /// Serves until `stop()` or one of `signals`; then removes `bridge.token` (if it still
    /// holds our secret).
    public func run(signals: SignalDescriptor? = nil) throws(BridgeError) {
        defer { secret.remove(from: tokenPath) }
        do throws(Errno) {
            try server.run(signals: signals)
        } catch {
            throw BridgeError("the server failed: \(error)")
        }
    }

    /// Asks `run()` to return; safe from any thread.
    public func stop() {
        server.stop()
    }

    /// One line on standard error, as the agent logs. Never pass a secret.
    public static func log(_ message: String) {
        try? FileDescriptor.standardError.writeAll(Array("claude-agent bridge[\(ProcessControl.currentPID)]: \(message)\n".utf8))
    }
}
