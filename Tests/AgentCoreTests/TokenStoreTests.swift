import AgentCore
import AgentProtocol
import Testing

@Suite("the token store")
struct TokenStoreTests {
    private func token(_ text: String) -> HeldToken {
        HeldToken(accessToken: text, refreshToken: nil, expiresAt: nil, tokenType: "Bearer", scopes: ["user:inference"])
    }

    @discardableResult
    private func add(_ store: inout TokenStore, _ name: String, id: UInt32? = nil, forgetAt: Int64? = nil) throws -> Account {
        try store.store(name: name, requestedID: id, provider: nil, token: token("t-" + name), forgetAt: forgetAt, now: 0)
    }

    @Test("a refresh token is held by one account at most; the holder may replace its own, and a removed one frees it")
    func oneHolderPerRefreshToken() throws {
        var store = TokenStore()
        func bundle(_ access: String, _ refresh: String) -> HeldToken {
            HeldToken(accessToken: access, refreshToken: refresh, expiresAt: nil, tokenType: "Bearer", scopes: ["user:inference"])
        }
        _ = try store.store(name: "cc", requestedID: nil, provider: "claude", token: bundle("at-1", "rt-1"), forgetAt: nil, now: 0)
        #expect(throws: AgentError.self) {
            _ = try store.store(name: "cc2", requestedID: nil, provider: "claude", token: bundle("at-2", "rt-1"), forgetAt: nil, now: 0)
        }
        #expect(store.count == 1)
        // The same account importing its own file again is fine.
        _ = try store.store(name: "cc", requestedID: nil, provider: "claude", token: bundle("at-3", "rt-1"), forgetAt: nil, now: 0)
        // A refresh that rotates frees the old refresh token for nobody else to be refused.
        let id = try #require(store.account(.name("cc"))?.id)
        store.update(id) { $0.token = bundle("at-4", "rt-2") }
        _ = try store.store(name: "other", requestedID: nil, provider: "claude", token: bundle("at-5", "rt-1"), forgetAt: nil, now: 0)
        #expect(throws: AgentError.self) {
            _ = try store.store(name: "third", requestedID: nil, provider: "claude", token: bundle("at-6", "rt-2"), forgetAt: nil, now: 0)
        }
        store.remove(.name("cc"))
        _ = try store.store(name: "third", requestedID: nil, provider: "claude", token: bundle("at-6", "rt-2"), forgetAt: nil, now: 0)
        #expect(store.count == 2)
    }

    @Test("new accounts take the lowest free id, filling gaps, past an id 0 and reserved ids")
    func lowestFreeID() throws {
        var store = TokenStore()
        #expect(store.lowestFreeID() == 1)
        try add(&store, "zero", id: 0)
        #expect(store.lowestFreeID() == 1)
        for n in 1...5 { #expect(try add(&store, "a\(n)").id == UInt32(n)) }
        store.remove(.id(3))
        #expect(store.lowestFreeID() == 3)
        #expect(store.lowestFreeID(excluding: [3, 6]) == 7)
        #expect(try add(&store, "again", id: 3).id == 3)
        #expect(store.lowestFreeID() == 6)
        try add(&store, "far", id: 100)
        #expect(store.lowestFreeID() == 6)
        #expect(store.accounts.map(\.id) == [0, 1, 2, 3, 4, 5, 100])
    }

    @Test("default ids count on from the highest ever given and are never reused; an explicit id still works")
    func idsNeverReused() throws {
        var store = TokenStore()
        #expect(try add(&store, "one").id == 1)
        #expect(try add(&store, "two").id == 2)
        store.remove(.id(2))
        store.remove(.id(1))
        #expect(try add(&store, "three").id == 3)
        #expect(store.nextID(excluding: [4, 5]) == 6)
        #expect(try add(&store, "back", id: 1).id == 1)
        try add(&store, "far", id: 100)
        #expect(try add(&store, "after").id == 101)
        try add(&store, "top", id: .max)
        // Past the largest id, the lowest free one.
        #expect(try add(&store, "wrapped").id == 2)
    }

    private func served(_ account: Account) -> AccessToken {
        let held = account.token ?? token("none")
        return AccessToken(accessToken: held.accessToken, tokenType: held.tokenType, expiresAt: held.expiresAt,
                           scopes: held.scopes, account: account.name, accountID: account.id)
    }

    @Test("a served answer is kept per token and dropped, in the store, when the account goes or its tokens change")
    func servedAnswers() throws {
        var store = TokenStore()
        let work = try add(&store, "work")
        let answer = store.serializedAnswer(served(work))
        #expect(String(decoding: answer, as: UTF8.self).contains("t-work"))
        #expect(store.holdsServedAnswer(for: work.id))
        store.update(work.id) { $0.lastRefreshError = "unrelated" }
        #expect(store.holdsServedAnswer(for: work.id))
        store.update(work.id) { $0.token = nil }
        #expect(!store.holdsServedAnswer(for: work.id))

        let replaced = try add(&store, "work")
        _ = store.serializedAnswer(served(replaced))
        _ = try store.store(name: "work", requestedID: nil, provider: nil, token: token("t-new"), forgetAt: nil, now: 0)
        #expect(!store.holdsServedAnswer(for: work.id))
        let renewed = try #require(store.account(id: work.id))
        #expect(String(decoding: store.serializedAnswer(served(renewed)), as: UTF8.self).contains("t-new"))

        store.remove(.id(work.id))
        #expect(!store.holdsServedAnswer(for: work.id))
        _ = store.serializedAnswer(served(renewed))
        #expect(!store.holdsServedAnswer(for: work.id), "no answer is kept for an account the store does not hold")

        let brief = try add(&store, "brief", forgetAt: 10)
        _ = store.serializedAnswer(served(brief))
        #expect(store.removeExpiredLifetimes(now: 10).map(\.id) == [brief.id])
        #expect(!store.holdsServedAnswer(for: brief.id))
    }

    @Test("accounts are found by id and by name, and a name keeps its id when its tokens change")
    func lookups() throws {
        var store = TokenStore()
        let work = try add(&store, "work")
        let home = try add(&store, "home", id: 7)
        #expect(store.account(.name("work"))?.id == work.id)
        #expect(store.account(.id(7))?.name == "home")
        #expect(store.account(.name("nobody")) == nil)
        let replaced = try store.store(name: "work", requestedID: nil, provider: nil, token: token("new"), forgetAt: nil, now: 1)
        #expect(replaced.id == work.id)
        #expect(store.account(id: work.id)?.token?.accessToken == "new")
        #expect(throws: AgentError.self) { try add(&store, "other", id: home.id) }
        #expect(throws: AgentError.self) { try add(&store, "work", id: 9) }
        #expect(store.remove(.name("home"))?.id == 7)
        #expect(store.account(.id(7)) == nil)
        #expect(store.account(.name("home")) == nil)
        #expect(store.count == 1)
    }

    @Test("new tokens for an account forget the old ones' refresh history: grant time, a possibly spent refresh token, the last outcome")
    func replacingForgetsRefreshHistory() throws {
        var store = TokenStore()
        let work = try add(&store, "work")
        store.update(work.id) {
            $0.obtainedAt = 5
            $0.refreshTokenMayBeSpent = true
            $0.lastRefreshEndedAt = 9
            $0.lastRefreshFailure = AgentError(.rotationLost, "lost")
        }
        let replaced = try store.store(name: "work", requestedID: nil, provider: nil, token: token("new"), forgetAt: nil, now: 10)
        #expect(replaced.obtainedAt == nil)
        #expect(!replaced.refreshTokenMayBeSpent)
        #expect(replaced.lastRefreshEndedAt == nil)
        #expect(replaced.lastRefreshFailure == nil)
    }

    @Test("lifetimes end at their time, not before, and only those accounts go")
    func lifetimes() throws {
        var store = TokenStore()
        try add(&store, "short", forgetAt: 100)
        try add(&store, "long", forgetAt: 200)
        try add(&store, "forever")
        #expect(store.nextLifetimeEnd == 100)
        #expect(store.removeExpiredLifetimes(now: 99).isEmpty)
        #expect(store.removeExpiredLifetimes(now: 100).map(\.name) == ["short"])
        #expect(store.nextLifetimeEnd == 200)
        store.update(store.account(.name("forever"))!.id) { $0.forgetAt = 150 }
        #expect(store.removeExpiredLifetimes(now: 160).map(\.name) == ["forever"])
        #expect(store.accounts.map(\.name) == ["long"])
    }

    @Test("a refresh's new tokens forget the last outcome as new tokens handed in do, but note when the refresh ended")
    func refreshedForgetsRefreshHistory() throws {
        var store = TokenStore()
        let work = try add(&store, "work")
        store.noteRefreshFailure(of: work.id, AgentError(.refreshFailed, "down"), reason: "down", dropTokens: false,
                                 mayHaveArrived: true, endedAt: 9, now: 10)
        #expect(store.account(id: work.id)?.refreshTokenMayBeSpent == true)
        #expect(store.account(id: work.id)?.lastRefreshFailure?.code == .refreshFailed)
        _ = store.serializedAnswer(served(work))
        #expect(store.holdsServedAnswer(for: work.id))
        store.holdRefreshed(token("fresh"), for: work.id, obtainedAt: 20, refreshEndedAt: 21, now: 20)
        let refreshed = try #require(store.account(id: work.id))
        #expect(refreshed.token?.accessToken == "fresh")
        #expect(refreshed.obtainedAt == 20)
        #expect(refreshed.lastRefreshError == nil)
        #expect(!refreshed.refreshTokenMayBeSpent)
        #expect(refreshed.lastRefreshEndedAt == 21)
        #expect(refreshed.lastRefreshFailure == nil)
        #expect(!store.holdsServedAnswer(for: work.id))
    }

    @Test("refresh-ahead times: about 2/3 of the life less up to a tenth, never past expiry less the skew, none without a refresh token")
    func refreshAheadTimes() throws {
        func refreshable(_ access: String, expiresAt: Int64) -> HeldToken {
            HeldToken(accessToken: access, refreshToken: "r-" + access, expiresAt: expiresAt, tokenType: "Bearer",
                      scopes: ["user:inference"])
        }
        var store = TokenStore(refreshAheadUnder: ExpiryRule(skewSeconds: 60))
        let now: Int64 = 1_000
        for name in ["a", "b", "c", "d", "e"] {
            let account = try store.store(name: name, requestedID: nil, provider: "claude",
                                          token: refreshable(name, expiresAt: now + 3000), forgetAt: nil, now: now)
            let due = try #require(account.refreshAheadAt)
            #expect((now + 1700...now + 2000).contains(due), "\(due - now)")
        }
        // A short life: the skew comes first (the whole skew for a token handed in, half
        // the life for one the agent saw granted).
        let short = try store.store(name: "short", requestedID: nil, provider: "claude",
                                    token: refreshable("short", expiresAt: now + 90), forgetAt: nil, now: now)
        #expect(short.refreshAheadAt == now + 30)
        let granted = try store.store(name: "granted", requestedID: nil, provider: "claude",
                                      token: refreshable("granted", expiresAt: now + 90), obtainedAt: now, forgetAt: nil, now: now)
        #expect(granted.refreshAheadAt == now + 45)
        store.holdRefreshed(refreshable("short-2", expiresAt: now + 190), for: short.id, obtainedAt: now + 100,
                            refreshEndedAt: 0, now: now + 100)
        #expect(store.account(id: short.id)?.refreshAheadAt == now + 145)
        // A failed refresh is tried again 30 s on; a refused refresh token ends refresh-ahead.
        store.noteRefreshFailure(of: short.id, AgentError(.refreshFailed, "down"), reason: "down", dropTokens: false,
                                 mayHaveArrived: false, endedAt: 0, now: now + 150)
        #expect(store.account(id: short.id)?.refreshAheadAt == now + 180)
        store.noteRefreshFailure(of: short.id, AgentError(.loginRequired, "refused"), reason: "refused", dropTokens: true,
                                 mayHaveArrived: false, endedAt: 0, now: now + 180)
        #expect(store.account(id: short.id)?.refreshAheadAt == nil)
        #expect(store.account(id: short.id)?.token == nil)
        // Nothing to refresh with, or no refresh-ahead: no time.
        #expect(try add(&store, "bare").refreshAheadAt == nil)
        var plain = TokenStore()
        let off = try plain.store(name: "off", requestedID: nil, provider: "claude", token: refreshable("off", expiresAt: now + 3000),
                                  forgetAt: nil, now: now)
        #expect(off.refreshAheadAt == nil)
    }
}
