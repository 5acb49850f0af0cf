import AgentPOSIX
import AgentProtocol
import Dispatch
import HTTPBridge
import HTTPCodec
import Synchronization

/// One client request forwarded upstream, on worker threads: the token, the upstream
/// exchange (and at most one replay), the answer streamed into the client's connection,
/// and the audit line at the end.
final class ProxyExchange: Sendable {
    /// What the exchange moved through while it ran; one thread at a time touches it.
    private struct Progress {
        var attempt = 0
        var task: UpstreamTask?
        var status = 0
        /// The account as the audit line names it: the one asked for, then the agent's answer.
        var account: String
        var headSent = false
        /// The client is gone or was answered: nothing more is started.
        var done = false
        /// The audit line is written.
        var reported = false
        /// Whether the upstream exchange ended (whole, failed or timed out): the first wins.
        var ended = false
        /// The last time the upstream said something (monotonic milliseconds).
        var lastActivity: Int64 = 0
    }

    private let request: HTTPRequest
    private let stream: HTTPResponseStream
    private let account: AccountReference?
    private let tokens: AgentTokens
    private let upstream: Upstream
    private let upstreamURL: UpstreamURL
    private let timeoutMilliseconds: Int64
    private let startedAt: Int64
    private let findCaller: @Sendable () -> String
    private let callerFound = Mutex<String?>(nil)
    private let audit: @Sendable (AuditRecord) -> Void
    private let progress: Mutex<Progress>

    init(request: HTTPRequest, stream: HTTPResponseStream, account: AccountReference?, tokens: AgentTokens,
         upstream: Upstream, configuration: EndpointConfiguration, caller: @escaping @Sendable () -> String,
         audit: @escaping @Sendable (AuditRecord) -> Void) {
        self.request = request
        self.stream = stream
        self.account = account
        self.tokens = tokens
        self.upstream = upstream
        self.upstreamURL = configuration.upstream
        self.timeoutMilliseconds = configuration.upstreamTimeoutMilliseconds
        self.startedAt = Clock.monotonicMilliseconds()
        self.findCaller = caller
        self.audit = audit
        progress = Mutex(Progress(account: account?.description ?? AccountName.defaultName))
    }

    /// Runs the first attempt; the rest follows from the upstream's events.
    func run() {
        // Found while the client's socket is surely open, off the server's thread.
        let caller = findCaller()
        callerFound.withLock { $0 = caller }
        stream.onCancel { [self] in
            let task = progress.withLock { progress -> UpstreamTask? in
                progress.done = true
                return progress.task
            }
            task?.cancel()
            report(status: 499)
        }
        attempt(forceRefresh: false)
        watch(after: timeoutMilliseconds)
    }

    /// The upstream's silence is bounded here rather than by the HTTP client's own
    /// time-out, whose meaning differs between URLSession's implementations (a total time,
    /// or none at all once the request is sent): `timeoutMilliseconds` without a byte
    /// ends the exchange, 504 before the head, a cut body after it.
    private func watch(after milliseconds: Int64) {
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(clamping: milliseconds))) { [self] in
            let now = Clock.monotonicMilliseconds()
            let verdict = progress.withLock { progress -> (expired: Bool, wait: Int64, task: UpstreamTask?)? in
                guard !progress.done, !progress.ended else { return nil }
                let silent = now &- progress.lastActivity
                guard silent >= timeoutMilliseconds else { return (false, timeoutMilliseconds &- silent, nil) }
                progress.ended = true
                defer { progress.task = nil }
                return (true, 0, progress.task)
            }
            guard let verdict else { return }
            guard verdict.expired else { return watch(after: max(1, verdict.wait)) }
            verdict.task?.cancel()
            conclude(UpstreamFailure(timedOut: true, message: "nothing for \(timeoutMilliseconds / 1000) s"))
        }
    }

    private func touch() {
        let now = Clock.monotonicMilliseconds()
        progress.withLock { $0.lastActivity = now }
    }

    private func attempt(forceRefresh: Bool) {
        let token: EndpointToken
        do throws(TokenFailure) {
            token = try tokens.token(account: account, forceRefresh: forceRefresh)
        } catch {
            return answer(AnthropicError.response(error.status, error.message))
        }
        let now = Clock.monotonicMilliseconds()
        let number = progress.withLock { progress -> Int? in
            // The client left, or the watch gave up, while the agent was asked.
            guard !progress.done, !progress.ended else { return nil }
            progress.lastActivity = now
            progress.attempt += 1
            progress.account = token.account
            return progress.attempt
        }
        guard let number else { return }
        let outgoing = UpstreamRequest(method: request.method, url: upstreamURL.url(for: request.target),
                                       headers: HeaderRewriting.upstreamHeaders(from: request.headers, token: token),
                                       body: request.body, timeoutMilliseconds: timeoutMilliseconds)
        let events = UpstreamEvents(
            head: { [self] status, headers in head(status: status, headers: headers, attempt: number, token: token) },
            body: { [self] bytes in
                touch()
                stream.write(bytes)
            },
            end: { [self] failure in end(failure, attempt: number) })
        let task = upstream.start(outgoing, events: events)
        let cancelled = progress.withLock { progress -> Bool in
            progress.task = task
            return progress.done
        }
        if cancelled { task.cancel() }
    }

    /// A 401 on a token the agent still calls valid means the provider revoked it early
    /// (another client's refresh rotated it, a logout): one forced refresh and one replay,
    /// then whatever the upstream says goes to the client.
    private func head(status: Int, headers: [(name: String, value: String)], attempt: Int, token: EndpointToken) -> Bool {
        touch()
        let stillValid = token.expiresAt.map { Clock.unixSeconds() < $0 } ?? true
        if status == 401 && attempt == 1 && stillValid {
            tokens.forget(account: account)
            let cancelled = progress.withLock { progress -> Bool in
                progress.task = nil
                return progress.done
            }
            // A refresh takes seconds: not on the HTTP client's thread, which serves every stream.
            if !cancelled { DispatchQueue.global().async { self.attempt(forceRefresh: true) } }
            return false
        }
        progress.withLock {
            $0.status = status
            $0.headSent = true
        }
        stream.begin(status: status, headers: HeaderRewriting.clientHeaders(from: headers))
        return true
    }

    private func end(_ failure: UpstreamFailure?, attempt: Int) {
        let first = progress.withLock { progress -> Bool in
            defer { progress.ended = true }
            return !progress.ended
        }
        if first { conclude(failure) }
    }

    private func conclude(_ failure: UpstreamFailure?) {
        let headSent = progress.withLock { $0.headSent }
        if let failure {
            if headSent {
                stream.abort()
                report(status: progress.withLock { $0.status }, note: failure.message)
            } else {
                answer(AnthropicError.response(failure.timedOut ? 504 : 502, "claude-agent endpoint: the upstream API "
                                                   + (failure.timedOut ? "did not answer in time: " : "failed: ")
                                                   + failure.message))
            }
            return
        }
        stream.finish()
        report(status: progress.withLock { $0.status })
    }

    private func answer(_ response: HTTPResponse) {
        progress.withLock { $0.status = response.status }
        stream.respond(response)
        report(status: response.status)
    }

    /// Writes the audit line once, whichever way the exchange ended.
    private func report(status: Int, note: String? = nil) {
        let caller = callerFound.withLock { $0 } ?? "pid=? exe=?"
        let record = progress.withLock { progress -> AuditRecord? in
            guard !progress.reported else { return nil }
            progress.reported = true
            progress.done = true
            return AuditRecord(unixSeconds: Clock.unixSeconds(), caller: caller, account: progress.account,
                               method: request.method, path: request.path, status: status,
                               bytesIn: request.body.count, bytesOut: stream.bodyBytesWritten,
                               milliseconds: Clock.monotonicMilliseconds() &- startedAt, note: note)
        }
        if let record { audit(record) }
    }
}
