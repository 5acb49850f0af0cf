import AgentProtocol
import ClaudeAgentClient
import Foundation
import Testing

/// Protocol.md § Error codes, `locked`: no token leaves a locked agent and no account
/// changes, but a tool's approval request may queue until a person unlocks.
@Suite("a locked agent answers exactly what Protocol.md says")
struct LockedAgentTests {
    /// The code `body` fails with, or nil when it succeeds.
    func failure(_ body: () throws -> Void) -> AgentClientError.Code? {
        do {
            try body()
            return nil
        } catch let error as AgentClientError {
            return error.code
        } catch {
            return .internal
        }
    }

    @Test("tokens and accounts answer locked; requests queue; selecting or denying one waits for unlock")
    func lockedSurface() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let client = AgentClient(socketPath: daemon.socket)
        let add = try sandbox.cli("add", "--account", "work", "-a", daemon.socket, stdin: bundle("tok-A"))
        #expect(add.status == 0, "\(add.stderr)")
        try client.lock(passphrase: "correct horse")

        #expect(failure { _ = try client.token() } == .locked)
        #expect(failure { _ = try client.call(.accountList) } == .locked)
        #expect(failure { _ = try client.call(.accountRemove, ["account": "work"]) } == .locked)
        #expect(try client.status().locked)

        let request = try client.createRequest(scopes: ["user:inference"])
        #expect(try client.request(request.id).status == .pending)
        #expect(try client.listRequests().map(\.id) == [request.id])
        #expect(failure { _ = try client.selectAccount(request.id, account: AccountReference(text: "work")) } == .locked)
        #expect(failure { _ = try client.denyRequest(request.id) } == .locked)
        #expect(try client.request(request.id).status == .pending)

        try client.unlock(passphrase: "correct horse")
        #expect(try client.token().accessToken == "tok-A")
        #expect(try client.cancelRequest(request.id).status == .cancelled)
    }
}
