import AgentProtocol
import HTTPCodec

/// The bridge's routes: the original router's API, the approval page and its forms.
public enum Route: Equatable, Sendable {
    /// `GET /`: the approval page (with `?token=`: sets the cookie and redirects).
    case page
    /// `GET /healthz`
    case health
    /// `POST /v1/token-requests`
    case createRequest
    /// `GET /v1/token-requests`
    case listRequests
    /// `GET /v1/token-requests/{id}/status`
    case requestStatus(String)
    /// `POST /v1/token-requests/{id}/select-account`
    case selectAccount(String)
    /// `POST /v1/token-requests/{id}/cancel`
    case cancel(String)
    /// `GET /v1/accounts`
    case accounts
    /// `GET /oauth/callback` (RFC 8252's form) and `GET /callback` (the path Claude's
    /// service registers for loopback redirects: `http://localhost:<port>/callback`).
    case oauthCallback
    /// `POST /ui/requests/{id}/approve`: the page's form.
    case approve(String)
    /// `POST /ui/requests/{id}/deny`: the page's form.
    case deny(String)

    /// What a method and path lead to.
    public enum Match: Equatable, Sendable {
        case found(Route)
        /// The path exists; `allowed` lists its methods (for the `Allow` header).
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    /// Matches the path segment by segment. GET routes answer HEAD too. Ids are matched
    /// as any segment here; the handlers reject malformed ones with their own error.
    public static func match(method: String, path: String) -> Match {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        let candidate: (String, Route)?
        switch segments {
        case [""]: candidate = ("GET", .page)
        case ["healthz"]: candidate = ("GET", .health)
        case ["v1", "accounts"]: candidate = ("GET", .accounts)
        case ["oauth", "callback"], ["callback"]: candidate = ("GET", .oauthCallback)
        case ["v1", "token-requests"]:
            switch method {
            case "POST": return .found(.createRequest)
            case "GET", "HEAD": return .found(.listRequests)
            default: return .methodNotAllowed(allowed: ["GET", "HEAD", "POST"])
            }
        default:
            candidate = idRoute(segments)
        }
        guard let (expected, route) = candidate else { return .notFound }
        if method == expected || (expected == "GET" && method == "HEAD") { return .found(route) }
        return .methodNotAllowed(allowed: expected == "GET" ? ["GET", "HEAD"] : [expected])
    }

    private static func idRoute(_ segments: [String]) -> (String, Route)? {
        guard segments.count == 4, !segments[2].isEmpty else { return nil }
        let id = segments[2]
        switch (segments[0], segments[1], segments[3]) {
        case ("v1", "token-requests", "status"): return ("GET", .requestStatus(id))
        case ("v1", "token-requests", "select-account"): return ("POST", .selectAccount(id))
        case ("v1", "token-requests", "cancel"): return ("POST", .cancel(id))
        case ("ui", "requests", "approve"): return ("POST", .approve(id))
        case ("ui", "requests", "deny"): return ("POST", .deny(id))
        default: return nil
        }
    }

    /// Whether the route needs the bridge secret. The original router's clients (a tool
    /// asking for a token and polling its status, and the provider's redirect) have none;
    /// everything that decides a request or shows who asks does.
    public var requiresSecret: Bool {
        switch self {
        case .health, .createRequest, .requestStatus, .oauthCallback: return false
        case .page, .listRequests, .selectAccount, .cancel, .accounts, .approve, .deny: return true
        }
    }

    /// Whether `id` has the UUID form the agent gives request ids
    /// (8-4-4-4-12 hexadecimal digits).
    public static func isApprovalID(_ id: String) -> Bool {
        ApprovalID.isValid(id)
    }
}
