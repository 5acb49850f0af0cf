import AgentPOSIX
import AgentProtocol
import AgentTransport
import Dispatch
import OAuth
import Synchronization
import Testing

@testable import AgentCore

/// A clock the test advances by hand: nothing the agent does by time happens until the
/// test says that time has passed, so no test waits on the wall clock.
final class FakeClock: AgentClock {
    private let now = Mutex((unixSeconds: Int64(1_900_000_000), monotonicMilliseconds: Int64(1_000_000)))

    func unixSeconds() -> Int64 { now.withLock { $0.unixSeconds } }
    func monotonicMilliseconds() -> Int64 { now.withLock { $0.monotonicMilliseconds } }

    /// Moves both clocks on; the wall clock by whole seconds passed.
    func advance(milliseconds: Int64) {
        now.withLock {
            let before = $0.monotonicMilliseconds
            $0.monotonicMilliseconds += milliseconds
            $0.unixSeconds += ($0.monotonicMilliseconds / 1000) - (before / 1000)
        }
    }

    func advance(seconds: Int64) { advance(milliseconds: seconds * 1000) }
}

/// A token endpoint played in process. Each refresh answers a new pair (`at-1`/`rt-1`,
/// `at-2`/`rt-2`, …); while `held`, exchanges wait at the gate until `release()`, so a
/// test can pile clients up behind one refresh; while `unreachable`, each exchange fails
/// before it is sent (counted all the same).
final class GatedTokenEndpoint: HTTPTransport {
    private let state = Mutex((calls: 0, entered: 0, held: false, unreachable: false, refreshTokens: [String]()))
    private let gate = DispatchSemaphore(value: 0)
    let lifetimeSeconds: Int64
    /// The body of the `n`th answer; nil for the well-formed one below.
    let answerBody: (@Sendable (_ n: Int) -> String)?

    init(held: Bool = false, lifetimeSeconds: Int64 = 3600, answerBody: (@Sendable (_ n: Int) -> String)? = nil) {
        self.lifetimeSeconds = lifetimeSeconds
        self.answerBody = answerBody
        state.withLock { $0.held = held }
    }

    /// The refresh tokens the exchanges sent (`refresh_token` of the form body), in order.
    var refreshTokensSeen: [String] { state.withLock { $0.refreshTokens } }

    /// Exchanges sent so far.
    var calls: Int { state.withLock { $0.calls } }
    /// Exchanges that reached the gate (sent, and waiting when held).
    var entered: Int { state.withLock { $0.entered } }

    /// Whether exchanges fail without reaching the provider.
    var unreachable: Bool {
        get { state.withLock { $0.unreachable } }
        set { state.withLock { $0.unreachable = newValue } }
    }

    /// Lets every waiting exchange (and every later one) through.
    func release() {
        let waiting = state.withLock { state -> Int in
            state.held = false
            return state.entered - state.calls
        }
        for _ in 0..<max(0, waiting) { gate.signal() }
    }

    func send(_ exchange: HTTPExchange) -> HTTPOutcome {
        let held = state.withLock { state -> Bool in
            state.entered += 1
            return state.held
        }
        if held { gate.wait() }
        // The refresh token sent, from a JSON body (Claude's encoding) or a form one (RFC 6749's).
        let sent = (try? JSONValue.parse(exchange.body))?["refresh_token"]?.stringValue
            ?? String(decoding: exchange.body, as: UTF8.self).split(separator: "&")
                .first { $0.hasPrefix("refresh_token=") }.map { String($0.dropFirst("refresh_token=".count)) }
        let (n, unreachable) = state.withLock { state -> (Int, Bool) in
            state.calls += 1
            if let sent { state.refreshTokens.append(sent) }
            return (state.calls, state.unreachable)
        }
        if unreachable { return .transportFailed("the test made the provider unreachable") }
        if let answerBody { return .answered(status: 200, body: Array(answerBody(n).utf8)) }
        let body = #"{"access_token": "at-\#(n)", "refresh_token": "rt-\#(n)", "token_type": "Bearer", "expires_in": \#(lifetimeSeconds), "scope": "user:inference"}"#
        return .answered(status: 200, body: Array(body.utf8))
    }
}

/// A client of an `InProcessAgent`, over one end of a socket pair.
final class TestClient {
    let fd: FileDescriptor
    private var decoder = FrameDecoder()
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var nextID: Int64 = 1
    /// Answers read and not yet taken.
    private(set) var answers: [JSONValue] = []
    private(set) var closed = false

    init(fd: FileDescriptor) { self.fd = fd }

    /// Sends one request; returns its id.
    @discardableResult
    func send(_ op: Op, _ fields: JSONObject = [:]) throws -> Int64 {
        var object = fields
        let id = nextID
        nextID += 1
        object["id"] = .int(id)
        object["op"] = .string(op.rawValue)
        try fd.sendAll(Frame.encode(.object(object)))
        return id
    }

    /// Reads whatever the agent has written.
    func poll() throws {
        while !closed {
            switch fd.readAvailable(into: &buffer) {
            case .bytes(let count):
                decoder.append(buffer[0..<count])
                while let payload = try decoder.next() { answers.append(try JSONValue.parse(payload)) }
            case .wouldBlock: return
            case .endOfFile: closed = true
            case .failed(let error): throw error
            }
        }
    }

    /// The answer to `id`, if it has come.
    func take(_ id: Int64) -> JSONValue? {
        guard let index = answers.firstIndex(where: { $0["id"]?.intValue == id }) else { return nil }
        return answers.remove(at: index)
    }

    deinit { fd.close() }
}

/// The agent run in this process, its loop turned by the test under a `FakeClock`, its
/// token endpoint a `GatedTokenEndpoint`, its clients on socket pairs (admitted as
/// `accept` would). Nothing here waits on the wall clock except for the worker thread to
/// finish an exchange the test let through.
final class InProcessAgent {
    let clock = FakeClock()
    let endpoint: GatedTokenEndpoint
    let agent: Agent

    init(endpoint: GatedTokenEndpoint = GatedTokenEndpoint(), defaultLifetime: Int64? = nil, skewSeconds: Int64 = 60,
         refreshAhead: Bool = false) throws {
        self.endpoint = endpoint
        // Never bound: the agent is not started, its clients come through `connect()`.
        var configuration = AgentConfiguration(socketPath: "/nonexistent/in-process.sock", managesDirectory: false,
                                               defaultLifetimeSeconds: defaultLifetime, expirySkewSeconds: skewSeconds,
                                               version: "test", refreshAhead: refreshAhead)
        configuration.clock = clock
        configuration.transport = endpoint
        agent = try Agent(configuration: configuration)
    }

    func connect() throws -> TestClient {
        let (ours, theirs) = try UnixSocket.pair()
        try ours.setNonBlocking()
        try theirs.setNonBlocking()
        agent.admit(theirs)
        return TestClient(fd: ours)
    }

    /// Turns the loop without waiting, `times` times.
    func turn(_ times: Int = 3) throws {
        for _ in 0..<times { try agent.runOnce(maxWaitMilliseconds: 0) }
    }

    /// Turns the loop until `id`'s answer comes (waiting, if need be, for the worker
    /// thread to report); fails after a bounded number of turns.
    func answer(_ id: Int64, on client: TestClient, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        for _ in 0..<2_000 {
            try client.poll()
            if let answer = client.take(id) { return answer }
            try agent.runOnce(maxWaitMilliseconds: 10)
        }
        Issue.record("no answer to request \(id)", sourceLocation: sourceLocation)
        throw NoAnswer(id: id)
    }

    /// Whether `id` has been answered after a few turns that do not wait.
    func isAnswered(_ id: Int64, on client: TestClient) throws -> Bool {
        try turn()
        try client.poll()
        return client.answers.contains { $0["id"]?.intValue == id }
    }

    /// Turns the loop until `condition` holds (the worker thread reached the endpoint, …).
    func turn(until condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for _ in 0..<2_000 {
            if condition() { return }
            try agent.runOnce(maxWaitMilliseconds: 10)
        }
        Issue.record("the condition never held", sourceLocation: sourceLocation)
    }

    /// Adds an account with the given access token state; returns its answer.
    @discardableResult
    func add(_ client: TestClient, name: String = "work", expiresIn: Int64, refreshToken: String? = "rt-0",
             lifetime: Int64? = nil) throws -> JSONValue {
        var fields: JSONObject = ["account": .string(name), "access_token": "at-0", "scope": "user:inference",
                                  "expires_at": .string(RFC3339.format(clock.unixSeconds() + expiresIn))]
        if let refreshToken { fields["refresh_token"] = .string(refreshToken) }
        if let lifetime { fields["lifetime"] = .int(lifetime) }
        let answer = try self.answer(client.send(.accountAdd, fields), on: client)
        #expect(answer["ok"]?.boolValue == true, "account.add: \(answer)")
        return answer
    }
}

struct NoAnswer: Error { let id: Int64 }

extension JSONValue {
    var errorCode: String? { self["error"]?["code"]?.stringValue }
    var errorMessage: String? { self["error"]?["message"]?.stringValue }
    var accessToken: String? { self["result"]?["access_token"]?.stringValue }
}
