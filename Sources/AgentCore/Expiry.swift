import AgentProtocol

/// When a held access token counts as expired.
///
/// A token within `skewSeconds` of its expiry is not handed out (a client would start a
/// request with it that the provider refuses half-way). But a fixed skew longer than the
/// token's whole life would make every token the provider grants expired on arrival: a
/// provider answering `expires_in: 30` to an agent with the default 60 s skew would have
/// each call refresh, burn a rotation, and still answer `expired`. So the skew is never
/// more than half the lifetime the provider granted (`expiresAt - obtainedAt`), and a
/// refresh-ahead is never scheduled past the point where the token starts to count as
/// expired.
public struct ExpiryRule: Sendable {
    /// The configured skew (`--skew`), in seconds.
    public let skewSeconds: Int64

    public init(skewSeconds: Int64) {
        self.skewSeconds = skewSeconds
    }

    /// The skew applied to a token granted at `obtainedAt` for use until `expiresAt` (Unix
    /// seconds): `min(skewSeconds, lifetime / 2)`, never negative. A token whose grant the
    /// agent did not see (`obtainedAt` nil: added or imported) gets the whole skew.
    public func effectiveSkew(expiresAt: Int64, obtainedAt: Int64?) -> Int64 {
        guard let obtainedAt else { return max(0, skewSeconds) }
        let (lifetime, overflow) = expiresAt.subtractingReportingOverflow(obtainedAt)
        guard !overflow else { return max(0, skewSeconds) }
        return max(0, min(skewSeconds, lifetime / 2))
    }

    /// Whether `token`, obtained at `obtainedAt`, must not be handed out at `now`.
    public func isExpired(_ token: HeldToken, obtainedAt: Int64?, now: Int64) -> Bool {
        guard let expiresAt = token.expiresAt else { return false }
        return Self.saturatingSubtract(expiresAt, effectiveSkew(expiresAt: expiresAt, obtainedAt: obtainedAt)) <= now
    }

    /// The last moment (Unix seconds) a token is handed out before it counts as expired;
    /// nil when it has no expiry.
    public func lastUsableSecond(_ token: HeldToken, obtainedAt: Int64?) -> Int64? {
        guard let expiresAt = token.expiresAt else { return nil }
        return Self.saturatingSubtract(expiresAt, effectiveSkew(expiresAt: expiresAt, obtainedAt: obtainedAt))
    }

    /// How an expired token's expiry reads: "expired at X", or for one not yet past it,
    /// "expires at X, within the N s expiry skew".
    public func expiredPhrase(_ expiresAt: Int64, now: Int64) -> String {
        expiresAt <= now ? "expired at \(RFC3339.format(expiresAt))"
            : "expires at \(RFC3339.format(expiresAt)), within the \(skewSeconds) s expiry skew"
    }

    /// `a - b` for a non-negative `b`, stopping at `Int64.min` instead of trapping.
    static func saturatingSubtract(_ a: Int64, _ b: Int64) -> Int64 {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? .min : difference
    }
}

extension Agent {
    /// Whether the account's token must not be handed out at `now` (none held, or expired
    /// under the expiry rule).
    func tokenIsExpired(_ account: Account, now: Int64) -> Bool {
        guard let token = account.token else { return true }
        return expiry.isExpired(token, obtainedAt: account.obtainedAt, now: now)
    }
}
