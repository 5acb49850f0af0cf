import Dispatch
import Foundation
import FoundationSession
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import AgentTransport

/// Performs an `HTTPExchange` with URLSession in this process.
///
/// This is all of the package's HTTP client, and only `claude-agent-fetch` (and tests)
/// link it: HTTPS is not worth writing by hand, but Foundation, libcurl and a TLS library
/// are not worth keeping mapped in the long-lived agent either.
///
/// Each exchange gets its own ephemeral session: nothing of it (tokens, cookies, cached
/// answers, credentials) may reach the disk or outlive it. Redirects are followed only
/// when the exchange asks; otherwise the 3xx itself is the answer.
public struct URLSessionTransport: HTTPTransport {
    public init() {}

    public func send(_ exchange: HTTPExchange) -> HTTPOutcome {
        guard let url = URL(string: exchange.url), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host != nil else {
            return .transportFailed("the URL is not a valid http or https URL")
        }
        let timeoutMilliseconds = exchange.boundedTimeoutMilliseconds
        let timeout = TimeInterval(milliseconds: timeoutMilliseconds)
        let configuration = URLSessionConfiguration.stateless()
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        let delegate: (any URLSessionDelegate)? = exchange.followsRedirects ? nil : RedirectRefuser()
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }

        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalAndRemoteCacheData, timeoutInterval: timeout)
        request.httpMethod = exchange.method
        for header in exchange.headers { request.setValue(header.value, forHTTPHeaderField: header.name) }
        if !exchange.body.isEmpty { request.httpBody = Data(exchange.body) }

        let box = OutcomeBox()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            if let error {
                let reason = Self.describe(error, timeoutMilliseconds: timeoutMilliseconds)
                box.set(Self.neverSent(error) ? .notSent(reason) : .failed(reason))
            } else if let response = response as? HTTPURLResponse {
                let body = data ?? Data()
                if body.count > HTTPExchange.maximumBodyBytes {
                    box.set(.failed("an answer of more than \(HTTPExchange.maximumBodyBytes) bytes"))
                } else {
                    box.set(.answered(status: response.statusCode, body: [UInt8](body)))
                }
            } else {
                box.set(.failed("an answer that is not HTTP"))
            }
            done.signal()
        }
        task.resume()
        // URLSession enforces the time-out itself; this deadline only guards against a
        // completion handler that never comes, which would otherwise hang forever.
        let grace = TimeInterval(milliseconds: Self.completionGraceMilliseconds)
        if done.wait(timeout: .now() + timeout + grace) == .timedOut {
            task.cancel()
            _ = done.wait(timeout: .now() + grace)
            return .failed(HTTPOutcome.timedOut(afterMilliseconds: timeoutMilliseconds))
        }
        return box.get() ?? .failed("no answer")
    }

    /// How long past the exchange's time-out we wait for URLSession's completion handler,
    /// and again after cancelling, before giving up on it.
    static let completionGraceMilliseconds: Int64 = 2_000

    /// Transport errors in words a person can act on, rather than Foundation's
    /// "The operation could not be completed".
    static func describe(_ error: any Error, timeoutMilliseconds: Int64) -> String {
        guard let urlError = error as? URLError else { return error.localizedDescription }
        switch urlError.code {
        case .cannotConnectToHost: return "connection refused"
        case .timedOut: return HTTPOutcome.timedOut(afterMilliseconds: timeoutMilliseconds)
        case .cannotFindHost, .dnsLookupFailed: return "host not found"
        case .networkConnectionLost: return "connection lost"
        case .notConnectedToInternet: return "no network"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            return "TLS handshake failed"
        case .badServerResponse: return "a malformed HTTP answer"
        default: return urlError.localizedDescription
        }
    }

    /// Whether the request provably never left: the host did not resolve, there is no
    /// network, the connection was refused, or TLS failed before the handshake finished
    /// (no HTTP byte is sent before it does). Anything else (a time-out, a connection lost)
    /// may have happened after the server read the request.
    static func neverSent(_ error: any Error) -> Bool {
        guard let urlError = error as? URLError else { return false }
        switch urlError.code {
        case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet,
             .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            return true
        default:
            return false
        }
    }

    /// Carries the answer from URLSession's queue to the waiting thread. Locked because the
    /// waiter may give up (and read) while a late completion handler writes.
    private final class OutcomeBox: @unchecked Sendable {
        // Guarded by `lock`.
        private let lock = NSLock()
        private var outcome: HTTPOutcome?

        func set(_ value: HTTPOutcome) {
            lock.lock()
            defer { lock.unlock() }
            outcome = value
        }

        func get() -> HTTPOutcome? {
            lock.lock()
            defer { lock.unlock() }
            return outcome
        }
    }
}

/// Answers every redirect with "do not follow", so the 3xx itself becomes the answer.
private final class RedirectRefuser: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    // Stateless.
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
