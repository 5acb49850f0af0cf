import Testing
@testable import AgentProtocol

@Suite("approval statuses and account states: one vocabulary, tolerant of new values")
struct StatusVocabularyTests {
    @Test("the wire spellings are Protocol.md's")
    func spellings() {
        #expect(ApprovalStatus.allCases.map(\.rawValue) == ["pending", "in_progress", "approved", "denied", "cancelled", "error", "expired"])
        #expect([AccountState.ok, .refreshing, .loginRequired, .rotationLost, .expired].map(\.rawValue)
                    == ["ok", "refreshing", "login_required", "rotation_lost", "expired"])
        #expect(AccountState.error("invalid_grant").rawValue == "error: invalid_grant")
    }

    @Test("a status this version does not know is kept, ended, and final")
    func unknownStatus() {
        let unknown = ApprovalStatus(rawValue: "archived")
        #expect(unknown.rawValue == "archived" && unknown.isTerminal)
        #expect(!unknown.canMove(to: .approved))
        #expect(!ApprovalStatus.pending.canMove(to: unknown))
        #expect(unknown.failureCode == .requestFailed)
    }

    @Test("a wait that ended unapproved answers the status's code",
          arguments: [(ApprovalStatus.denied, ErrorCode.denied), (.cancelled, .cancelled), (.expired, .timeout), (.error, .requestFailed)])
    func failureCodes(status: ApprovalStatus, code: ErrorCode) {
        #expect(status.failureCode == code)
    }

    @Test("an account summary keeps a state this version does not know")
    func unknownAccountState() throws {
        let summary = try AccountSummary(json: ["id": 1, "account": "work", "state": "suspended"])
        #expect(summary.state == AccountState(rawValue: "suspended"))
        #expect(summary.json["state"] == "suspended")
    }
}
