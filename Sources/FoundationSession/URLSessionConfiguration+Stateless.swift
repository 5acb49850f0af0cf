import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension URLSessionConfiguration {
    /// A configuration for a session that keeps no state: ephemeral, with no cache, no
    /// cookies and no stored credentials, so nothing of an exchange (tokens, cookies,
    /// cached answers) reaches the disk or outlives the session. Every URLSession of the
    /// package starts from it; callers add their time-outs and connection limits.
    public static func stateless() -> URLSessionConfiguration {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCredentialStorage = nil
        return configuration
    }
}
