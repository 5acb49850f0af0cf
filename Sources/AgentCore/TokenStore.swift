import AgentCrypto
import AgentPOSIX
import AgentProtocol

/// The tokens the agent holds for one account: the protocol's token bundle, refresh
/// token included (it never leaves the agent).
public typealias HeldToken = TokenBundle

extension TokenBundle {
    /// Whether the access token is expired or within `skew` seconds of it at `now`.
    public func isExpired(at now: Int64, skew: Int64) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt.saturatingSubtracting(skew) <= now
    }

    public var fingerprint: String { Fingerprint.of(accessToken) }
}

/// An account: a stable id, a unique name, and the tokens held for it.
public struct Account: Sendable {
    public let id: UInt32
    public var name: String
    /// The provider that issued the tokens and refreshes them; nil: none (imported tokens
    /// that cannot be refreshed).
    public var provider: String?
    /// nil once the refresh token died (`invalid_grant`): the account needs a login.
    public var token: HeldToken?
    /// The scopes of the last token held, kept when the token is dropped.
    public var scopes: [String]
    /// When to forget the account (lifetime), Unix seconds.
    public var forgetAt: Int64?
    public var addedAt: Int64
    /// Bumped whenever the tokens are replaced from outside a refresh, so a refresh that
    /// finishes afterwards does not overwrite newer tokens.
    public var generation: UInt64 = 0
    /// Why the last refresh failed (cleared by a success).
    public var lastRefreshError: String?
    /// When to refresh ahead of expiry (`--refresh-ahead`), Unix seconds. Set by the
    /// store alone, whenever the tokens change or a refresh fails (see `TokenStore`).
    public fileprivate(set) var refreshAheadAt: Int64?
    /// A credentials file to write rotated tokens back to (`--persist`).
    public var persistPath: String?
    /// Who the account is, from the provider's token response.
    public var profile: AccountProfile?
    /// Whether the log already warned that the refresh token lapses within a day.
    public var refreshExpiryWarned = false
    /// When the current token came from the provider (Unix seconds), for tokens the agent
    /// obtained itself (a login, a refresh): with its expiry, the lifetime the provider
    /// granted, which bounds the expiry skew (see `ExpiryRule`). nil for tokens handed in
    /// (`account.add`, an import), whose granted lifetime is unknown.
    public var obtainedAt: Int64?
    /// The credentials file the tokens came from (`account.import`), read again before
    /// each refresh and after an `invalid_grant` in case another tool rotated them.
    public var sourcePath: String?
    /// That file's stamp when the agent last read or wrote it: it is parsed again only
    /// when the stamp moves.
    public var sourceStamp: FileStamp?
    /// The held refresh token was sent in a request that may have reached the provider
    /// without its answer reaching us: an `invalid_grant` for it now means the rotation
    /// was lost (`rotation_lost`).
    public var refreshTokenMayBeSpent = false
    /// When the last refresh ended (monotonic milliseconds) and how it failed (nil: it
    /// succeeded): a forced refresh younger than `Limits.forcedRefreshIntervalMilliseconds`
    /// is answered with this outcome instead of refreshing again.
    public var lastRefreshEndedAt: Int64?
    public var lastRefreshFailure: AgentError?
}

/// The accounts, in memory only, keyed by id and found by id or name, with what follows
/// from their tokens: the answer served for each (`serializedAnswer`) and when to refresh
/// it ahead of expiry (`Account.refreshAheadAt`). Both are kept here, and only here, so a
/// change of tokens updates them in one place.
///
/// Every lookup the hot path makes (by id, by name, the lowest id covering some scopes)
/// costs the same with ten accounts or ten thousand: dictionaries for the keys, a sorted
/// id list for order, and the earliest lifetime end kept so the loop's sweep costs
/// nothing until an account is actually due to be forgotten.
///
/// Owned by the agent's loop thread; nothing else touches it.
public struct TokenStore {
    private var byID: [UInt32: Account] = [:]
    private var idByName: [String: UInt32] = [:]
    /// Ascending: lists, and the default choice, go lowest id first.
    private var ids: [UInt32] = []
    /// The earliest `forgetAt` of any account (`.max` if none): `removeExpiredLifetimes`
    /// scans only once this has passed.
    private var earliestForgetAt: Int64 = .max
    /// The last `token.get` answer per account, serialized (see `serializedAnswer`).
    /// Dropped here, and only here, when the account goes or its tokens change, so a
    /// removed token does not outlive its account in memory.
    private var served: [UInt32: (token: AccessToken, json: [UInt8])] = [:]
    private var nextGeneration: UInt64 = 1
    /// The highest id this store ever gave an account: default ids count on from it and
    /// are never reused, so a script's `--account 1` never silently names a later account.
    private var highestGivenID: UInt32?
    /// Which account holds each refresh token. A rotating refresh token is single-use:
    /// two accounts holding one would burn it for each other, the very race the agent
    /// exists to end, so `store` refuses a second holder.
    private var idByRefreshToken: [String: UInt32] = [:]
    /// With `--refresh-ahead`, the expiry rule that bounds when tokens are refreshed ahead
    /// (see `refreshAheadTime`); nil: no background refresh.
    private let refreshAheadExpiry: ExpiryRule?

    /// - Parameter refreshAheadExpiry: the agent's expiry rule when it refreshes tokens
    ///   ahead of expiry (`--refresh-ahead`); nil when it does not.
    public init(refreshAheadUnder refreshAheadExpiry: ExpiryRule? = nil) {
        self.refreshAheadExpiry = refreshAheadExpiry
    }

    public var count: Int { ids.count }

    /// All accounts, lowest id first. O(n): for lists, not for lookups.
    public var accounts: [Account] { ids.compactMap { byID[$0] } }

    /// The accounts lowest id first, produced one at a time, so a search that stops at
    /// the first match touches only what it needs.
    public var inIDOrder: LazyMapSequence<LazyFilterSequence<LazyMapSequence<[UInt32], Account?>>, Account> {
        ids.lazy.compactMap { byID[$0] }
    }

    /// The accounts with ids above `id` (all when nil), lowest id first, one at a time:
    /// a page of `account.list` costs its own size, not the table's.
    public func accounts(after id: UInt32?) -> LazyMapSequence<LazyFilterSequence<LazyMapSequence<ArraySlice<UInt32>, Account?>>, Account> {
        let start = id.map { $0 == .max ? ids.count : insertionPoint(of: $0 + 1) } ?? 0
        return ids[start...].lazy.compactMap { byID[$0] }
    }

    public func account(_ reference: AccountReference) -> Account? {
        switch reference {
        case .id(let id): return byID[id]
        case .name(let name): return idByName[name].flatMap { byID[$0] }
        }
    }

    public func account(id: UInt32) -> Account? { byID[id] }

    /// Adds or replaces the account named `name` (keeping its id), or creates one with
    /// `requestedID` or `nextID()`.
    /// - Parameter obtainedAt: when the provider granted `token` (Unix seconds), for tokens
    ///   the agent obtained itself (a login); nil for tokens handed in (see `Account`).
    public mutating func store(name: String, requestedID: UInt32?, provider: String?, token: HeldToken,
                               obtainedAt: Int64? = nil, forgetAt: Int64?, now: Int64) throws(AgentError) -> Account {
        let generation = nextGeneration
        nextGeneration += 1
        // The account of that name or that id; when they are two, the lower id speaks first.
        let matches = [idByName[name], requestedID.flatMap { byID[$0] != nil ? $0 : nil }].compactMap { $0 }
        if let refreshToken = token.refreshToken, let holderID = idByRefreshToken[refreshToken],
           holderID != matches.min(), let holder = byID[holderID] {
            throw AgentError(.badRequest, "account \(holder.name) (#\(holder.id)) already holds this refresh token; "
                             + "a refresh token is single-use, so two accounts would log each other out")
        }
        if let existingID = matches.min(), var existing = byID[existingID] {
            if existing.name != name {
                throw AgentError(.badRequest, "account id \(existing.id) already names account \"\(existing.name)\"")
            }
            if let requestedID, requestedID != existing.id {
                throw AgentError(.badRequest, "account \"\(name)\" already has id \(existing.id), not \(requestedID)")
            }
            reindexRefreshToken(from: existing.token?.refreshToken, to: token.refreshToken, id: existing.id)
            Self.hold(token, in: &existing, obtainedAt: obtainedAt, refreshEndedAt: nil,
                      refreshAheadAt: refreshAheadTime(for: token, obtainedAt: obtainedAt, now: now))
            existing.provider = provider
            existing.forgetAt = forgetAt
            existing.generation = generation
            byID[existing.id] = existing
            served[existing.id] = nil
            noteForgetAt(forgetAt)
            return existing
        }
        guard ids.count < Limits.maxAccounts else {
            throw AgentError(.badRequest, "the agent holds \(Limits.maxAccounts) accounts, its limit")
        }
        var account = Account(id: requestedID ?? nextID(), name: name, provider: provider, token: token,
                              scopes: token.scopes, forgetAt: forgetAt, addedAt: now, generation: generation)
        Self.hold(token, in: &account, obtainedAt: obtainedAt, refreshEndedAt: nil,
                  refreshAheadAt: refreshAheadTime(for: token, obtainedAt: obtainedAt, now: now))
        byID[account.id] = account
        idByName[name] = account.id
        reindexRefreshToken(from: nil, to: token.refreshToken, id: account.id)
        highestGivenID = max(highestGivenID ?? 0, account.id)
        ids.insert(account.id, at: insertionPoint(of: account.id))
        noteForgetAt(forgetAt)
        return account
    }

    @discardableResult
    public mutating func remove(_ reference: AccountReference) -> Account? {
        guard let account = account(reference) else { return nil }
        byID[account.id] = nil
        served[account.id] = nil
        idByName[account.name] = nil
        reindexRefreshToken(from: account.token?.refreshToken, to: nil, id: account.id)
        let index = insertionPoint(of: account.id)
        if index < ids.count, ids[index] == account.id { ids.remove(at: index) }
        return account
    }

    public mutating func update(_ id: UInt32, _ body: (inout Account) -> Void) {
        guard var account = byID[id] else { return }
        let name = account.name
        let token = account.token
        body(&account)
        precondition(account.id == id && account.name == name, "update must not change an account's id or name")
        if account.token != token {
            served[id] = nil
            reindexRefreshToken(from: token?.refreshToken, to: account.token?.refreshToken, id: id)
        }
        byID[id] = account
        noteForgetAt(account.forgetAt)
    }

    /// Holds `token`, the outcome of a refresh that ended at `refreshEndedAt` (monotonic
    /// milliseconds), as account `id`'s tokens: from the provider at `obtainedAt`, or nil
    /// for tokens found in its credentials file (their grant was not seen).
    public mutating func holdRefreshed(_ token: HeldToken, for id: UInt32, obtainedAt: Int64?, refreshEndedAt: Int64,
                                       now: Int64) {
        let refreshAheadAt = refreshAheadTime(for: token, obtainedAt: obtainedAt, now: now)
        update(id) { Self.hold(token, in: &$0, obtainedAt: obtainedAt, refreshEndedAt: refreshEndedAt, refreshAheadAt: refreshAheadAt) }
    }

    /// Notes that a refresh of account `id` ended at `endedAt` (monotonic milliseconds) in
    /// `failure`, for `reason` (shown by `account.list`). With `dropTokens` (the provider
    /// refused the refresh token) the account holds no token until a login and is not
    /// refreshed ahead; otherwise a background refresh is tried again
    /// `Limits.refreshAheadRetrySeconds` after `now` (Unix seconds).
    /// - Parameter mayHaveArrived: the request may have reached the provider, so the held
    ///   refresh token may be spent (see `Account.refreshTokenMayBeSpent`).
    public mutating func noteRefreshFailure(of id: UInt32, _ failure: AgentError, reason: String, dropTokens: Bool,
                                            mayHaveArrived: Bool, endedAt: Int64, now: Int64) {
        update(id) { account in
            if dropTokens {
                account.token = nil
                account.refreshAheadAt = nil
                account.refreshTokenMayBeSpent = false
            } else {
                account.refreshAheadAt = account.refreshAheadAt.map { _ in now.saturatingAdding(Limits.refreshAheadRetrySeconds) }
                if mayHaveArrived { account.refreshTokenMayBeSpent = true }
            }
            account.lastRefreshError = reason
            account.lastRefreshEndedAt = endedAt
            account.lastRefreshFailure = failure
        }
    }

    /// Forgets accounts whose lifetime has run out; returns them. Free until one is due.
    public mutating func removeExpiredLifetimes(now: Int64) -> [Account] {
        guard earliestForgetAt <= now else { return [] }
        let gone = accounts.filter { ($0.forgetAt ?? .max) <= now }
        for account in gone { remove(.id(account.id)) }
        earliestForgetAt = byID.values.lazy.compactMap(\.forgetAt).min() ?? .max
        return gone
    }

    /// The token's JSON, serialized once per token: the same answer goes to every client
    /// until the token, its account's name or its scopes change. Parsing and serializing
    /// were most of a cached `token.get`'s cost (see BENCHMARKS.md).
    public mutating func serializedAnswer(_ token: AccessToken) -> [UInt8] {
        if let cached = served[token.accountID], cached.token == token { return cached.json }
        let json = JSONValue.object(token.json).serialized()
        if byID[token.accountID] != nil { served[token.accountID] = (token, json) }
        return json
    }

    /// Whether an answer is held for the account (for tests of the invalidation).
    public func holdsServedAnswer(for id: UInt32) -> Bool { served[id] != nil }

    /// When the next account's lifetime ends (Unix seconds), if any has one.
    public var nextLifetimeEnd: Int64? { earliestForgetAt == .max ? nil : earliestForgetAt }

    /// The id a new account gets by default: one more than the highest ever given in this
    /// store's life (never a removed account's), skipping held and `excluding` ids (ids
    /// promised to authorizations in progress); only past `UInt32.max` the lowest free id.
    public func nextID(excluding reserved: [UInt32] = []) -> UInt32 {
        guard let highest = highestGivenID else { return lowestFreeID(excluding: reserved) }
        var id = highest
        // Bounded: each step passes a held or reserved id.
        while true {
            let (next, overflow) = id.addingReportingOverflow(1)
            if overflow { return lowestFreeID(excluding: reserved) }
            id = next
            if byID[id] == nil && !reserved.contains(id) { return id }
        }
    }

    /// The lowest id from 1 that no account holds (nor `excluding`, ids promised to
    /// authorizations in progress).
    public func lowestFreeID(excluding reserved: [UInt32] = []) -> UInt32 {
        // Past an id 0, the ids are distinct, positive and ascending, so ids[i] - i never
        // decreases: the first gap is found by bisection.
        let base = ids.first == 0 ? 1 : 0
        var low = base
        var high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] == UInt32(middle - base + 1) { low = middle + 1 } else { high = middle }
        }
        var id = UInt32(low - base + 1)
        if reserved.isEmpty { return id }
        while byID[id] != nil || reserved.contains(id) { id += 1 }
        return id
    }

    /// Puts new tokens in `account`. The last refresh's outcome says nothing about them:
    /// it is forgotten, except that a refresh which produced them ended at
    /// `refreshEndedAt` (a forced refresh soon after answers with them).
    private static func hold(_ token: HeldToken, in account: inout Account, obtainedAt: Int64?, refreshEndedAt: Int64?,
                             refreshAheadAt: Int64?) {
        account.token = token
        account.scopes = token.scopes
        account.obtainedAt = obtainedAt
        account.lastRefreshError = nil
        account.refreshTokenMayBeSpent = false
        account.lastRefreshEndedAt = refreshEndedAt
        account.lastRefreshFailure = nil
        account.refreshAheadAt = refreshAheadAt
    }

    /// With `--refresh-ahead`: once about 2/3 of a token's life is used, less a random
    /// jitter of up to a tenth of it (Vault Agent's rule), so callers rarely wait and many
    /// agents do not refresh in step.
    ///
    /// Never later than the moment the token starts to count as expired (its expiry less
    /// the skew, which `ExpiryRule` bounds by half its life), so a client never waits for
    /// a refresh that refresh-ahead could have done.
    /// - Parameter obtainedAt: when the provider granted it (nil: unknown, see `Account`).
    func refreshAheadTime(for token: HeldToken, obtainedAt: Int64?, now: Int64) -> Int64? {
        guard let expiry = refreshAheadExpiry, token.refreshToken != nil, let expiresAt = token.expiresAt else { return nil }
        // Past the year 10^11 no one minds when; saturating keeps the sums from trapping.
        let (difference, overflow) = expiresAt.subtractingReportingOverflow(now)
        let life = overflow ? (expiresAt > now ? Int64.max / 2 : 0) : min(max(0, difference), Int64.max / 2)
        let jitter = life >= 10 ? Int64((try? RandomBytes.uniform(below: UInt64(life / 10))) ?? 0) : 0
        let ahead = now.saturatingAdding(life / 3 * 2 - jitter)
        return min(ahead, expiry.lastUsableSecond(token, obtainedAt: obtainedAt) ?? ahead)
    }

    /// Moves account `id`'s entry in the refresh token index from `old` to `new`.
    private mutating func reindexRefreshToken(from old: String?, to new: String?, id: UInt32) {
        guard old != new else { return }
        if let old, idByRefreshToken[old] == id { idByRefreshToken[old] = nil }
        if let new { idByRefreshToken[new] = id }
    }

    /// Where `id` is, or would go, in `ids`.
    private func insertionPoint(of id: UInt32) -> Int {
        var low = 0
        var high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private mutating func noteForgetAt(_ forgetAt: Int64?) {
        if let forgetAt { earliestForgetAt = min(earliestForgetAt, forgetAt) }
    }
}
