import AgentProtocol
import Testing

@testable import AgentCore

@Suite("the token request state machine")
struct RequestBookTests {
    static let all = ApprovalStatus.allCases
    static let legal: Set<String> = [
        "pending>in_progress", "pending>approved", "pending>denied", "pending>cancelled", "pending>error", "pending>expired",
        "in_progress>in_progress", "in_progress>approved", "in_progress>denied", "in_progress>cancelled",
        "in_progress>error", "in_progress>expired",
    ]

    func book(with status: ApprovalStatus) throws -> (ApprovalBook, String) {
        var book = ApprovalBook(liveMilliseconds: 1000, retentionMilliseconds: 5000)
        let id = "00000000-0000-4000-8000-000000000001"
        _ = try book.create(id: id, clientName: "tool", hostname: "box", scopes: ["a"], preferredAccount: nil,
                            caller: CallerInfo(pid: 10, uid: 0, executable: nil, commandLine: nil), now: 100, monotonic: 0)
        switch status {
        case .pending: break
        case .inProgress: try book.move(id, to: .inProgress, now: 101, monotonic: 1)
        default:
            try book.move(id, to: .inProgress, now: 101, monotonic: 1)
            try book.move(id, to: status, now: 102, monotonic: 2)
        }
        return (book, id)
    }

    @Test("a request's error repeats at most maxErrorBytes of UTF-8, cut at a whole character")
    func errorCappedInBytes() throws {
        var (book, id) = try book(with: .inProgress)
        // Characters would not bound it: one "e" with 2000 combining accents is one character.
        let heavy = "e" + String(repeating: "\u{301}", count: 2000)
        try book.move(id, to: .error, now: 200, monotonic: 10) { $0.error = "ok " + heavy }
        let shown = try #require(book[id]?.json(includingToken: false)["error"]?.stringValue)
        #expect(shown == "ok ")
        var (other, otherID) = try self.book(with: .inProgress)
        try other.move(otherID, to: .error, now: 200, monotonic: 10) { $0.error = String(repeating: "é", count: 1000) }
        #expect(other[otherID]?.json(includingToken: false)["error"]?.stringValue?.utf8.count == ApprovalRequest.maxErrorBytes)
    }

    @Test("every transition: legal ones happen, illegal ones are invalid_status and change nothing",
          arguments: all, all)
    func transitions(from: ApprovalStatus, to: ApprovalStatus) throws {
        var (book, id) = try book(with: from)
        let before = try #require(book[id])
        if Self.legal.contains("\(from.rawValue)>\(to.rawValue)") {
            let moved = try book.move(id, to: to, now: 200, monotonic: 10) { $0.error = "why" }
            #expect(moved.status == to)
            #expect(book[id]?.status == to)
            #expect(book[id]?.updatedAt == 200)
        } else {
            #expect(throws: AgentError.self) { try book.move(id, to: to, now: 200, monotonic: 10) }
            do { try book.move(id, to: to, now: 200, monotonic: 10) } catch { #expect(error.code == .invalidStatus) }
            #expect(book[id]?.status == before.status)
            #expect(book[id]?.updatedAt == before.updatedAt)
            #expect(book[id]?.error == before.error)
        }
    }

    @Test("live requests expire after their time; ended ones are dropped after the retention")
    func expiryAndRetention() throws {
        var (book, id) = try book(with: .pending)
        #expect(book.sweep(now: 100, monotonic: 999).isEmpty)
        #expect(book.sweep(now: 101, monotonic: 1000) == [id])
        #expect(book[id]?.status == .expired)
        #expect(book[id]?.error == "no one approved the request in time")
        #expect(book.live.isEmpty)
        _ = book.sweep(now: 102, monotonic: 5999)
        #expect(book[id] != nil)
        _ = book.sweep(now: 103, monotonic: 6000)
        #expect(book[id] == nil)
    }

    @Test("caps: too_many_requests past the per-caller and the total limit")
    func caps() throws {
        var book = ApprovalBook()
        func create(_ n: Int, pid: Int32) throws(AgentError) {
            _ = try book.create(id: "id-\(pid)-\(n)", clientName: "t", hostname: "h", scopes: [], preferredAccount: nil,
                                caller: CallerInfo(pid: pid, uid: 0), now: 0, monotonic: 0)
        }
        for n in 0..<ApprovalBook.maxLivePerCaller { try create(n, pid: 1) }
        #expect(throws: AgentError.self) { try create(99, pid: 1) }
        #expect(book.live.count == ApprovalBook.maxLivePerCaller)
        // An ended request frees its caller's slot.
        try book.move("id-1-0", to: .cancelled, now: 0, monotonic: 0)
        try create(99, pid: 1)
        #expect(book.liveCount == ApprovalBook.maxLivePerCaller)
        var pid: Int32 = 2
        var made = 0
        while book.liveCount < ApprovalBook.maxLive {
            try create(made, pid: pid)
            made += 1
            if made % ApprovalBook.maxLivePerCaller == 0 { pid += 1 }
        }
        do {
            try create(0, pid: 9999)
            Issue.record("a request past the total limit was accepted")
        } catch {
            #expect(error.code == .tooManyRequests)
        }
        #expect(book.live.count == ApprovalBook.maxLive)
        #expect(book.liveCount == ApprovalBook.maxLive)
    }

    @Test("request ids are random UUID-form strings, and only such strings are accepted")
    func requestIDs() {
        let id = ApprovalID.format([UInt8](repeating: 0xAB, count: 16))
        #expect(id == "abababab-abab-4bab-abab-abababababab")
        #expect(ApprovalID.isValid(id))
        #expect(!ApprovalID.isValid("abababab-abab-4bab-abab-ababababab"))
        #expect(!ApprovalID.isValid("zzzzzzzz-abab-4bab-abab-abababababab"))
        #expect(!ApprovalID.isValid("../etc/passwd"))
    }

    @Test("the token is in get/wait answers only, never in lists")
    func tokenVisibility() throws {
        var (book, id) = try book(with: .inProgress)
        try book.move(id, to: .approved, now: 300, monotonic: 3) {
            $0.token = AccessToken(accessToken: "secret", tokenType: "Bearer", expiresAt: nil, scopes: ["a"], account: "w", accountID: 1)
        }
        let request = try #require(book[id])
        #expect(request.json(includingToken: true)["token"]?.objectValue?["access_token"]?.stringValue == "secret")
        #expect(request.json(includingToken: false)["token"]?.isNull == true)
        #expect(!JSONValue.object(request.json(includingToken: true)).jsonText.contains("refresh"))
    }
}
