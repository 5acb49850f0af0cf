import AgentCrypto
import AgentProtocol

/// The tokens the agent holds for one account.
public struct HeldToken: Sendable {
    public var accessToken: String
    public var refreshToken: String?
    /// Unix seconds; nil: the provider stated no expiry.
    public var expiresAt: Int64?
    public var tokenType: String
    public var scopes: [String]

    public init(accessToken: String, refreshToken: String?, expiresAt: Int64?, tokenType: String, scopes: [String]) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.tokenType = tokenType
        self.scopes = scopes
    }

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
    public var token: HeldToken
    /// When to forget the account (lifetime), Unix seconds.
    public var forgetAt: Int64?
    public var addedAt: Int64
}

/// The accounts, in memory only, keyed by id and found by id or name.
///
/// Owned by the agent's loop thread; nothing else touches it.
public struct TokenStore {
    public private(set) var accounts: [Account] = []

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

    /// Adds or replaces the account named `name` (keeping its id), or creates one with
    /// `requestedID` or the lowest free id.
    public mutating func store(name: String, requestedID: UInt32?, token: HeldToken, forgetAt: Int64?, now: Int64) throws(AgentError) -> Account {
        if let existing = accounts.firstIndex(where: { $0.name == name }) {
            if let requestedID, requestedID != accounts[existing].id {
                throw AgentError(.badRequest, "account \"\(name)\" already has id \(accounts[existing].id), not \(requestedID)")
            }
            accounts[existing].token = token
            accounts[existing].forgetAt = forgetAt
            return accounts[existing]
        }
        if let requestedID, let clash = accounts.first(where: { $0.id == requestedID }) {
            throw AgentError(.badRequest, "account id \(requestedID) already names account \"\(clash.name)\"")
        }
        guard accounts.count < Limits.maxAccounts else {
            throw AgentError(.badRequest, "the agent holds \(Limits.maxAccounts) accounts, its limit")
        }
        let account = Account(id: requestedID ?? lowestFreeID(), name: name, token: token, forgetAt: forgetAt, addedAt: now)
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

    /// The earliest lifetime deadline, for the poll timeout.
    public var nextForgetAt: Int64? { accounts.compactMap(\.forgetAt).min() }

    private func lowestFreeID() -> UInt32 {
        var id: UInt32 = 1
        for account in accounts where account.id == id { id += 1 }  // accounts are sorted by id
        return id
    }
}
