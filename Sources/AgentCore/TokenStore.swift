import AgentCrypto
import AgentProtocol

/// The tokens the agent holds for one account: the protocol's token bundle, refresh
/// token included (it never leaves the agent).
public typealias HeldToken = TokenBundle

extension TokenBundle {
    /// Whether the access token is expired or within `skew` seconds of it at `now`.
    public func isExpired(at now: Int64, skew: Int64) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt - skew <= now
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
    /// When to refresh ahead of expiry (`--refresh-ahead`), Unix seconds.
    public var refreshAheadAt: Int64?
    /// A credentials file to write rotated tokens back to (`--persist`).
    public var persistPath: String?
}

/// The accounts, in memory only, keyed by id and found by id or name.
///
/// Owned by the agent's loop thread; nothing else touches it.
public struct TokenStore {
    public private(set) var accounts: [Account] = []
    private var nextGeneration: UInt64 = 1

    public init() {}

    public var count: Int { accounts.count }

    public func index(of reference: AccountReference) -> Int? {
        switch reference {
        case .id(let id): return accounts.firstIndex { $0.id == id }
        case .name(let name): return accounts.firstIndex { $0.name == name }
        }
    }

    public func account(_ reference: AccountReference) -> Account? {
        index(of: reference).map { accounts[$0] }
    }

    public func account(id: UInt32) -> Account? {
        accounts.first { $0.id == id }
    }

    /// Adds or replaces the account named `name` (keeping its id), or creates one with
    /// `requestedID` or the lowest free id.
    public mutating func store(name: String, requestedID: UInt32?, provider: String?, token: HeldToken,
                               forgetAt: Int64?, now: Int64) throws(AgentError) -> Account {
        let generation = nextGeneration
        nextGeneration += 1
        if let existing = accounts.firstIndex(where: { $0.name == name || (requestedID != nil && $0.id == requestedID) }) {
            if accounts[existing].name != name {
                throw AgentError(.badRequest, "account id \(accounts[existing].id) already names account \"\(accounts[existing].name)\"")
            }
            if let requestedID, requestedID != accounts[existing].id {
                throw AgentError(.badRequest, "account \"\(name)\" already has id \(accounts[existing].id), not \(requestedID)")
            }
            accounts[existing].token = token
            accounts[existing].scopes = token.scopes
            accounts[existing].provider = provider
            accounts[existing].forgetAt = forgetAt
            accounts[existing].generation = generation
            accounts[existing].lastRefreshError = nil
            return accounts[existing]
        }
        guard accounts.count < Limits.maxAccounts else {
            throw AgentError(.badRequest, "the agent holds \(Limits.maxAccounts) accounts, its limit")
        }
        let account = Account(id: requestedID ?? lowestFreeID(), name: name, provider: provider, token: token,
                              scopes: token.scopes, forgetAt: forgetAt, addedAt: now, generation: generation)
        accounts.append(account)
        accounts.sort { $0.id < $1.id }
        return account
    }

    @discardableResult
    public mutating func remove(_ reference: AccountReference) -> Account? {
        guard let index = index(of: reference) else { return nil }
        return accounts.remove(at: index)
    }

    public mutating func update(_ id: UInt32, _ body: (inout Account) -> Void) {
        guard let index = accounts.firstIndex(where: { $0.id == id }) else { return }
        body(&accounts[index])
    }

    /// Forgets accounts whose lifetime has run out; returns them.
    public mutating func removeExpiredLifetimes(now: Int64) -> [Account] {
        let gone = accounts.filter { ($0.forgetAt ?? .max) <= now }
        if !gone.isEmpty { accounts.removeAll { ($0.forgetAt ?? .max) <= now } }
        return gone
    }

    /// The lowest id from 1 that no account holds (nor `excluding`, ids promised to
    /// authorizations in progress).
    public func lowestFreeID(excluding reserved: [UInt32] = []) -> UInt32 {
        let taken = Set(accounts.map(\.id)).union(reserved)
        var id: UInt32 = 1
        while taken.contains(id) { id += 1 }
        return id
    }
}
