import ClaudeEndpoint
import Dispatch
import Foundation
import FoundationSession
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// The upstream reached with URLSession (libcurl and its TLS underneath): one session for
/// the process, so connections to the API are kept alive and reused between requests.
///
/// Nothing reaches the disk or outlives the process: no cache, no cookies, no stored
/// credentials. Redirects are not followed: a 3xx is the client's to see.
///
/// `@unchecked Sendable`: URLSession is thread-safe but not marked so; the rest is `let`.
final class URLSessionUpstream: Upstream, @unchecked Sendable {
    private let session: URLSession
    private let exchanges: Exchanges
    /// URLSession's own limit, far beyond any answer's: a day, in milliseconds.
    static let outerLimitMilliseconds: Int64 = 86_400_000
    /// `outerLimitMilliseconds` as Foundation's seconds (exact: a whole number of them).
    static let outerLimit = TimeInterval(milliseconds: outerLimitMilliseconds)

    /// - Parameter maxConnectionsPerHost: concurrent connections to the API; each stream
    ///   holds one for its whole length.
    init(maxConnectionsPerHost: Int) {
        let configuration = URLSessionConfiguration.stateless()
        configuration.httpMaximumConnectionsPerHost = maxConnectionsPerHost
        configuration.timeoutIntervalForRequest = Self.outerLimit
        configuration.timeoutIntervalForResource = Self.outerLimit
        // One delegate thread: each exchange's events arrive in order, and none blocks.
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        exchanges = Exchanges()
        session = URLSession(configuration: configuration, delegate: exchanges, delegateQueue: queue)
    }

    func start(_ request: UpstreamRequest, events: UpstreamEvents) -> UpstreamTask {
        guard let url = URL(string: request.url) else {
            events.end(UpstreamFailure(timedOut: false, message: "the upstream URL is not valid"))
            return NoTask()
        }
        // The exchange bounds the upstream's silence itself (ProxyExchange); URLSession's
        // time-outs only stop a stream that lives past a day.
        var urlRequest = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalAndRemoteCacheData,
                                    timeoutInterval: Self.outerLimit)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.addValue(value, forHTTPHeaderField: name) }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }
        let task = session.dataTask(with: urlRequest)
        exchanges.register(task, events)
        task.resume()
        return Task(task: task, exchanges: exchanges)
    }

    /// `@unchecked Sendable`: both fields are `let`; URLSessionTask is thread-safe but not
    /// marked Sendable, and `Exchanges` keeps its state in a Mutex.
    private struct Task: UpstreamTask, @unchecked Sendable {
        let task: URLSessionTask
        let exchanges: Exchanges
        func cancel() { exchanges.cancel(task) }
    }

    private struct NoTask: UpstreamTask {
        func cancel() {}
    }
}

/// URLSession's delegate: routes each task's callbacks to its exchange's events.
///
/// `@unchecked Sendable`: its only state is in a Mutex.
private final class Exchanges: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// The events of one exchange, and whether its head was refused (then nothing more).
    private struct Exchange {
        var events: UpstreamEvents
        var dropped = false
    }

    private let exchanges = Mutex<[Int: Exchange]>([:])

    func register(_ task: URLSessionTask, _ events: UpstreamEvents) {
        exchanges.withLock { $0[task.taskIdentifier] = Exchange(events: events) }
    }

    /// Stops an exchange: no event follows.
    func cancel(_ task: URLSessionTask) {
        _ = exchanges.withLock { $0.removeValue(forKey: task.taskIdentifier) }
        task.cancel()
    }

    private func events(of task: URLSessionTask) -> UpstreamEvents? {
        exchanges.withLock { exchanges in
            guard let exchange = exchanges[task.taskIdentifier], !exchange.dropped else { return nil }
            return exchange.events
        }
    }

    // MARK: URLSessionDataDelegate

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        guard let events = events(of: dataTask), let http = response as? HTTPURLResponse else {
            return completionHandler(.cancel)
        }
        var headers: [(name: String, value: String)] = []
        for (name, value) in http.allHeaderFields {
            guard let name = name as? String, let value = value as? String else { continue }
            headers.append((name, value))
        }
        headers.sort { $0.name.lowercased() < $1.name.lowercased() }
        if events.head(http.statusCode, headers) {
            completionHandler(.allow)
        } else {
            exchanges.withLock { $0[dataTask.taskIdentifier]?.dropped = true }
            completionHandler(.cancel)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        events(of: dataTask)?.body([UInt8](data))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let exchange = exchanges.withLock({ $0.removeValue(forKey: task.taskIdentifier) }), !exchange.dropped else {
            return
        }
        guard let error else { return exchange.events.end(nil) }
        let timedOut = (error as? URLError)?.code == .timedOut
        exchange.events.end(UpstreamFailure(timedOut: timedOut, message: Self.describe(error)))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    /// A short reason: libcurl's own message when there is one ("SSL certificate problem:
    /// unable to get local issuer certificate"); it names the host at most, never a token.
    static func describe(_ error: Error) -> String {
        guard let error = error as? URLError else { return "\(error)" }
        if error.code == .timedOut { return "no answer within the upstream time-out" }
        if let text = error.userInfo[NSLocalizedDescriptionKey] as? String, !text.isEmpty { return text }
        return "URL error \(error.code.rawValue)"
    }
}
