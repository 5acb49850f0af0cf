import AgentProtocol

/// Who asked, from `SO_PEERCRED` and `/proc/<pid>/` at creation.
public struct CallerInfo: Equatable, Sendable {
    public var pid: Int32
    public var uid: UInt32
    public var executable: String?
    public var commandLine: String?
    /// When the connection came through a forwarded socket: the relaying program (`ssh`,
    /// `sshd`) and, for `ssh`, the destination from its command line.
    public var forwardedVia: String?
    public var forwardedTo: String?

    public init(pid: Int32, uid: UInt32, executable: String? = nil, commandLine: String? = nil,
                forwardedVia: String? = nil, forwardedTo: String? = nil) {
        self.pid = pid
        self.uid = uid
        self.executable = executable
        self.commandLine = commandLine
        self.forwardedVia = forwardedVia
        self.forwardedTo = forwardedTo
    }

    var json: JSONValue {
        .object([
            "pid": .int(Int64(pid)), "uid": .int(Int64(uid)),
            "executable": executable.map(JSONValue.string) ?? .null,
            "command_line": commandLine.map(JSONValue.string) ?? .null,
            "forwarded": forwardedVia.map { via in
                .object(["via": .string(via), "destination": forwardedTo.map(JSONValue.string) ?? .null])
            } ?? .null,
        ])
    }
}

/// A tool's request for a token the agent could not give at once, waiting for a person to
/// choose an account.
public struct ApprovalRequest: Sendable {
    public let id: String
    public let clientName: String
    public let hostname: String
    public let scopes: [String]
    public let preferredAccount: AccountReference?
    public let caller: CallerInfo?
    public internal(set) var status: ApprovalStatus = .pending
    public internal(set) var accountID: UInt32?
    public internal(set) var accountName: String?
    public let createdAt: Int64
    public internal(set) var updatedAt: Int64
    public internal(set) var error: String?
    /// The access token bundle, once approved; never a refresh token.
    public internal(set) var token: AccessToken?
    /// The OAuth `state` of the authorization in progress, if any.
    var authorizationState: String?
    /// Monotonic milliseconds: when a live request expires, or when a terminal one is dropped.
    var deadline: Int64
    /// Its place in creation order, counted from 1 for the agent's life: `request.list`'s
    /// cursor, which stays valid when requests before it are dropped.
    var sequence: UInt64 = 0

    /// The protocol's request object. The token is included only when asked (`request.get`,
    /// `request.wait`), never in lists.
    public func json(includingToken: Bool) -> JSONObject {
        [
            "request_id": .string(id),
            "status": .string(status.rawValue),
            "client_name": .string(clientName),
            "hostname": .string(hostname),
            "scopes": .array(scopes.map(JSONValue.string)),
            "account": accountName.map(JSONValue.string) ?? .null,
            "account_id": accountID.map { .int(Int64($0)) } ?? .null,
            "preferred_account": preferredAccount?.json ?? .null,
            "caller": caller?.json ?? .null,
            "created_at": .string(RFC3339.format(createdAt)),
            "updated_at": .string(RFC3339.format(updatedAt)),
            "error": error.map { JSONValue.string(FreeText.prefix($0, maxBytes: Self.maxErrorBytes)) } ?? .null,
            "token": includingToken ? (token.map { .object(tokenJSON($0)) } ?? .null) : .null,
        ]
    }

    /// How much of the reason a request ended for its object repeats, in bytes of UTF-8
    /// (whole characters), so that an entry of `request.list` stays a known size (see
    /// `Page`): a count of characters would not bound it, a character being any number of
    /// bytes.
    static let maxErrorBytes = 1024

    private func tokenJSON(_ token: AccessToken) -> JSONObject {
        var json = token.json
        json["account"] = nil
        json["account_id"] = nil
        return json
    }
}

/// The live and recently ended token requests, with their limits and clock.
///
/// Owned by the agent's loop thread.
public struct ApprovalBook {
    /// Live (pending or approved, not yet ended) requests in all; one more is refused
    /// `too_many_requests`, so a flood of callers cannot grow the book without bound.
    public static let maxLive = 4096
    /// Live requests one process (caller pid) may have: a tool asks once and waits, so a
    /// few are plenty, and one looping program cannot take the whole book.
    public static let maxLivePerCaller = 16
    /// How long a request stays live before it expires unanswered: time for the user to
    /// notice it and answer, without a forgotten one holding its place for long.
    public static let defaultLiveMilliseconds: Int64 = 10 * 60 * 1000
    /// How long an ended request stays listed, so its waiter and `claude-agent requests`
    /// can still see how it ended.
    public static let defaultRetentionMilliseconds: Int64 = 10 * 60 * 1000

    public private(set) var requests: [String: ApprovalRequest] = [:]
    /// Creation order, so lists are stable.
    private var order: [String] = []
    /// The `sequence` of the last request created.
    private var lastSequence: UInt64 = 0
    /// Live requests, in all and per caller pid, counted as they come and go so that
    /// creating one costs the same however many wait.
    public private(set) var liveCount = 0
    private var liveByCaller: [Int32: Int] = [:]
    /// No request's deadline is earlier than this (`.max`: none): `sweep` is free until then.
    private var earliestDeadline: Int64 = .max
    let liveMilliseconds: Int64
    let retentionMilliseconds: Int64

    public init(liveMilliseconds: Int64 = defaultLiveMilliseconds, retentionMilliseconds: Int64 = defaultRetentionMilliseconds) {
        self.liveMilliseconds = liveMilliseconds
        self.retentionMilliseconds = retentionMilliseconds
    }

    public var live: [ApprovalRequest] {
        order.compactMap { requests[$0] }.filter { !$0.status.isTerminal }
    }

    /// The live requests created after the one at `sequence` (all when nil), oldest first,
    /// one at a time.
    public func live(after sequence: UInt64?) -> some Sequence<ApprovalRequest> {
        let after = sequence ?? 0
        return order.lazy.compactMap { requests[$0] }.filter { $0.sequence > after && !$0.status.isTerminal }
    }

    public subscript(id: String) -> ApprovalRequest? { requests[id] }

    /// Adds a pending request, refusing with `too_many_requests` past the caps (in all, and
    /// per calling pid), so the book never grows without bound.
    public mutating func create(id: String, clientName: String, hostname: String, scopes: [String],
                                preferredAccount: AccountReference?, caller: CallerInfo?,
                                now: Int64, monotonic: Int64) throws(AgentError) -> ApprovalRequest {
        guard liveCount < Self.maxLive else {
            throw AgentError(.tooManyRequests, "\(Self.maxLive) token requests are already waiting")
        }
        if let caller, liveByCaller[caller.pid, default: 0] >= Self.maxLivePerCaller {
            throw AgentError(.tooManyRequests, "process \(caller.pid) already has \(Self.maxLivePerCaller) token requests waiting")
        }
        lastSequence += 1
        let request = ApprovalRequest(id: id, clientName: clientName, hostname: hostname, scopes: scopes,
                                   preferredAccount: preferredAccount, caller: caller, createdAt: now, updatedAt: now,
                                   deadline: monotonic + liveMilliseconds, sequence: lastSequence)
        requests[id] = request
        order.append(id)
        liveCount += 1
        if let caller { liveByCaller[caller.pid, default: 0] += 1 }
        earliestDeadline = min(earliestDeadline, request.deadline)
        return request
    }

    /// Moves a request to `status`, or throws `invalid_status` and changes nothing.
    @discardableResult
    public mutating func move(_ id: String, to status: ApprovalStatus, now: Int64, monotonic: Int64,
                              _ update: (inout ApprovalRequest) -> Void = { _ in }) throws(AgentError) -> ApprovalRequest {
        guard var request = requests[id] else { throw AgentError(.notFound, "no token request \(id)") }
        guard request.status.canMove(to: status) else {
            throw AgentError(.invalidStatus, "token request \(id) is \(request.status.rawValue); it cannot become \(status.rawValue)")
        }
        request.status = status
        request.updatedAt = now
        update(&request)
        if status.isTerminal {
            request.authorizationState = nil
            request.deadline = monotonic + retentionMilliseconds
            liveCount -= 1
            if let pid = request.caller?.pid {
                let left = liveByCaller[pid, default: 1] - 1
                liveByCaller[pid] = left > 0 ? left : nil
            }
        }
        earliestDeadline = min(earliestDeadline, request.deadline)
        requests[id] = request
        return request
    }

    /// Expires live requests past their time and drops terminal ones past their retention.
    /// Returns the ids of the requests that just expired.
    public mutating func sweep(now: Int64, monotonic: Int64) -> [String] {
        guard earliestDeadline <= monotonic else { return [] }
        var expired: [String] = []
        for id in order {
            guard let request = requests[id], request.deadline <= monotonic else { continue }
            if request.status.isTerminal {
                requests[id] = nil
            } else if (try? move(id, to: .expired, now: now, monotonic: monotonic, { $0.error = "no one approved the request in time" })) != nil {
                expired.append(id)
            }
        }
        order.removeAll { requests[$0] == nil }
        earliestDeadline = requests.values.lazy.map(\.deadline).min() ?? .max
        return expired
    }

    /// The earliest deadline, for the poll timeout (at worst early, never late).
    public var nextDeadline: Int64? { earliestDeadline == .max ? nil : earliestDeadline }

    /// The request whose authorization uses `state`.
    public func request(withState state: String) -> ApprovalRequest? {
        requests.values.first { $0.authorizationState == state }
    }
}
