import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient
import HTTPCodec
import OAuth

/// The one-shot loopback listener (RFC 8252 §7.3) that receives a provider's redirect for
/// `login` and `approve`. It listens exactly where the redirect URI in the authorize URL
/// points: the provider's configured host, port and path, or any free port when the
/// configuration names none (or names no redirect at all).
///
/// A redirect to `localhost` (Claude's registered form) reaches whichever address the
/// browser resolves it to, so that host gets a second socket on ::1 at the same port
/// where this machine has IPv6 loopback (RFC 8252 §8.3 warns of the split).
struct CallbackListener {
    let fd: FileDescriptor
    /// The ::1 socket beside `fd` for a `localhost` redirect; nil without IPv6 loopback.
    let secondFD: FileDescriptor?
    /// Every socket to poll.
    var descriptors: [FileDescriptor] { [fd] + (secondFD.map { [$0] } ?? []) }
    /// The redirect URI it serves, to offer the agent as `redirect_uri`.
    let uri: String
    /// The path the provider redirects to; other paths get 404.
    let path: String

    /// Opens the listener `provider`'s redirect needs; nil when the provider redirects to
    /// its own page (a code to paste), which no listener of ours could serve.
    /// - Parameter port: the `--port` asked for; contradicting a configured port is a usage error.
    /// Fails with `listen_failed` (the port busy, say), naming the address and why.
    static func open(for provider: ProviderInfo, port requested: UInt16?, command: String) -> CallbackListener? {
        if provider.paste { return nil }
        var redirect = LoopbackRedirect(host: "127.0.0.1", port: nil, path: "/oauth/callback")
        if let configured = provider.redirectURI {
            guard let fixed = LoopbackRedirect(configured) else { return nil }
            redirect = fixed
        }
        if let requested, let fixed = redirect.port, fixed != requested {
            Output.usage("--port \(requested) contradicts provider \(provider.name)'s redirect_uri \(redirect), which names port \(fixed)",
                         command: command)
        }
        let port = redirect.port ?? requested ?? 0
        guard let address = SocketAddress(parsing: "\(redirect.listenHost):\(port)") else {
            Output.fail(.listenFailed, "cannot listen on \(redirect.listenHost):\(port): not an address")
        }
        let fd: FileDescriptor
        let bound: UInt16
        do throws(Errno) {
            fd = try TCPSocket.listen(address)
            bound = try TCPSocket.localAddress(of: fd).port
        } catch {
            let which = redirect.port != nil ? " on the port provider \(provider.name)'s redirect_uri \(redirect) names" : ""
            let busy = error == .addressInUse ? "; another program holds it, so stop that one first" : ""
            Output.fail(.listenFailed, "cannot listen for the provider's redirect\(which): \(error)\(busy)")
        }
        var second: FileDescriptor?
        if redirect.host == LoopbackHost.localhost {
            // Best effort: a machine without ::1 (or with it taken at that port) is served
            // on 127.0.0.1 alone, which browsers fall back to.
            second = try? TCPSocket.listen(SocketAddress(family: .inet6, address: [UInt8](repeating: 0, count: 15) + [1], port: bound))
        }
        return CallbackListener(fd: fd, secondFD: second, uri: redirect.uri(port: bound), path: redirect.path)
    }

    func close() {
        fd.close()
        secondFD?.close()
    }

    /// Reads one HTTP request from the browser; for our callback with `state`, relays it to
    /// the agent and shows the outcome in the page.
    /// - Returns: what the agent completed; nil for another path or state (refused, and the
    ///   wait goes on).
    /// - Throws: the agent's refusal of the relayed callback.
    func serveOne(state: String, client: AgentClient, from listening: FileDescriptor? = nil) throws(AgentClientError) -> CallbackOutcome? {
        guard let (connection, _) = try? TCPSocket.accept(listening ?? fd) else { return nil }
        defer { connection.close() }
        guard let request = Self.readRequest(connection) else { return nil }
        guard request.method == "GET" else {
            Self.respond(connection, status: 405, body: "Only GET is answered here.")
            return nil
        }
        guard request.path == path else {
            Self.respond(connection, status: 404, body: "Not found.")
            return nil
        }
        guard let query = request.queryItems else {
            Self.respond(connection, status: 400, body: "The callback's query is not percent-encoded correctly.")
            return nil
        }
        let parameters = Dictionary(query) { first, _ in first }
        guard parameters["state"] == state else {
            Self.respond(connection, status: 400, body: "This callback does not belong to the login in progress.")
            return nil
        }
        do throws(AgentClientError) {
            let outcome = try client.completeLogin(state: state, code: parameters["code"], error: parameters["error"],
                                                   errorDescription: parameters["error_description"])
            let done = if case .approved = outcome { "Approved with account" } else { "Logged in account" }
            Self.respond(connection, status: 200, body: "\(done) \(outcome.accountName). You may close this window.")
            return outcome
        } catch {
            Self.respond(connection, status: 400, body: "Login failed: \(error.message)")
            throw error
        }
    }

    /// One request from the browser, read by the same parser as the bridge's server; nil
    /// when it does not come whole within `CLILimits.callbackRequestMilliseconds` (a malformed one is
    /// answered with the parser's status first).
    static func readRequest(_ fd: FileDescriptor) -> HTTPRequest? {
        try? fd.setNonBlocking(false)
        let deadline = Clock.monotonicMilliseconds().saturatingAdding(CLILimits.callbackRequestMilliseconds)
        var parser = HTTPParser()
        while true {
            let left = deadline - Clock.monotonicMilliseconds()
            guard left > 0, (try? fd.setTimeouts(milliseconds: left)) != nil,
                  let chunk = try? fd.read(upTo: CLILimits.callbackReadChunkBytes), !chunk.isEmpty else { return nil }
            parser.append(chunk)
            do throws(HTTPParseError) {
                if let request = try parser.next() { return request }
            } catch {
                respond(fd, status: error.status, body: error.message)
                return nil
            }
        }
    }

    static func respond(_ fd: FileDescriptor, status: Int, body: String) {
        let html = "<!doctype html><meta charset=utf-8><title>claude-agent</title><p>\(HTML.escape(body))</p>\n"
        let fields: HTTPHeaders = [
            "Content-Type": "text/html; charset=utf-8", "Content-Length": String(html.utf8.count),
            "Cache-Control": "no-store", "Connection": "close",
        ]
        // The status is the parser's or one of ours, and the fields are fixed: nothing to refuse.
        guard let head = try? HTTPHeadWriter.response(status: status, fields: fields) else { return }
        try? fd.sendAll(head + Array(html.utf8))
    }
}
