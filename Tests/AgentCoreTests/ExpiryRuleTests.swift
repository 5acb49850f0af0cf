import AgentCore
import AgentProtocol
import Testing

@Suite("the expiry rule")
struct ExpiryRuleTests {
    let rule = ExpiryRule(skewSeconds: 60)

    func token(expiresAt: Int64?) -> HeldToken {
        HeldToken(accessToken: "at", refreshToken: "rt", expiresAt: expiresAt, tokenType: "Bearer", scopes: [])
    }

    @Test("a token the provider granted for 30 s is handed out for its first 15 s, though the skew is 60 s")
    func shortLifetime() {
        let token = token(expiresAt: 1030)
        #expect(rule.effectiveSkew(expiresAt: 1030, obtainedAt: 1000) == 15)
        #expect(!rule.isExpired(token, obtainedAt: 1000, now: 1000))
        #expect(!rule.isExpired(token, obtainedAt: 1000, now: 1014))
        #expect(rule.isExpired(token, obtainedAt: 1000, now: 1015))
        #expect(rule.lastUsableSecond(token, obtainedAt: 1000) == 1015)
    }

    @Test("a long-lived token gets the whole skew", arguments: [3600, 121, 120])
    func longLifetime(lifetime: Int64) {
        #expect(rule.effectiveSkew(expiresAt: 1000 + lifetime, obtainedAt: 1000) == 60)
    }

    @Test("a token whose grant the agent did not see (added, imported) gets the whole skew")
    func unknownGrant() {
        let token = token(expiresAt: 1005)
        #expect(rule.effectiveSkew(expiresAt: 1005, obtainedAt: nil) == 60)
        #expect(rule.isExpired(token, obtainedAt: nil, now: 1000))
    }

    @Test("no expiry never expires; extreme times never trap")
    func extremes() {
        #expect(!rule.isExpired(token(expiresAt: nil), obtainedAt: 0, now: .max))
        #expect(rule.effectiveSkew(expiresAt: .max, obtainedAt: .min) == 60)
        #expect(rule.effectiveSkew(expiresAt: .min, obtainedAt: .max) == 60)
        #expect(rule.effectiveSkew(expiresAt: 0, obtainedAt: 10) == 0)
        #expect(rule.isExpired(token(expiresAt: .min), obtainedAt: nil, now: 0))
    }
}
