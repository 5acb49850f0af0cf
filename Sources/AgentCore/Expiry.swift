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
struct ExpiryRule {
    /// The configured skew (`--skew`), in seconds.
    let skewSeconds: Int64

    /// The skew applied to a token granted at `obtainedAt` for use until `expiresAt` (Unix
    /// seconds): `min(skewSeconds, lifetime / 2)`, never negative.
    func effectiveSkew(expiresAt: Int64, obtainedAt: Int64) -> Int64 {
        let (lifetime, overflow) = expiresAt.subtractingReportingOverflow(obtainedAt)
        guard !overflow else { return max(0, skewSeconds) }
        return max(0, min(skewSeconds, lifetime / 2))
    }

    /// Whether `token`, obtained at `obtainedAt`, must not be handed out at `now`.
    func isExpired(_ token: HeldToken, obtainedAt: Int64, now: Int64) -> Bool {
        guard let expiresAt = token.expiresAt else { return false }
        let skew = effectiveSkew(expiresAt: expiresAt, obtainedAt: obtainedAt)
        return expiresAt.subtractingReportingOverflow(skew).partialValue <= now
    }

    /// The last moment (Unix seconds) a token is handed out before it counts as expired;
    /// nil when it has no expiry.
    func lastUsableSecond(_ token: HeldToken, obtainedAt: Int64) -> Int64? {
        guard let expiresAt = token.expiresAt else { return nil }
        return expiresAt.subtractingReportingOverflow(effectiveSkew(expiresAt: expiresAt, obtainedAt: obtainedAt)).partialValue
    }
}

extension Agent {
    var expiry: ExpiryRule { ExpiryRule(skewSeconds: configuration.expirySkew) }

    /// Whether the account's token must not be handed out at `now` (none held, or expired
    /// under the expiry rule).
    func tokenIsExpired(_ account: Account, now: Int64) -> Bool {
        guard let token = account.token else { return true }
        return expiry.isExpired(token, obtainedAt: account.obtainedAt, now: now)
    }
}
