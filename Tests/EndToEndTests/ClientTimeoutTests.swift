import ClaudeAgentClient
import Foundation
import Testing

/// The client library's time-outs are Int64 milliseconds that any caller may set: the
/// waits built on them (the answer's grace, the deadline, `timeout_ms` sent, the socket's
/// `SO_RCVTIMEO`) saturate or are brought into range, never trap.
@Suite("client time-outs at the ends of Int64")
struct ClientTimeoutTests {
    @Test("a client whose time-out is any Int64 gets its token and the status", arguments: [
        Int64.min, -1, 0, 1, 30_000, 3_600_001, .max,
    ])
    func anyTimeout(milliseconds: Int64) throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        try AgentClient(socketPath: daemon.socket).addAccount(
            "lib", token: .init(accessToken: "tok-lib", refreshToken: nil, expiresAt: Int64(Date().timeIntervalSince1970) + 3600,
                                tokenType: "Bearer", scopes: ["user:inference"]))
        let client = AgentClient(socketPath: daemon.socket, timeoutMilliseconds: milliseconds)
        do {
            #expect(try client.token(scopes: ["user:inference"]).accessToken == "tok-lib")
            #expect(try client.status().accounts == 1)
        } catch where milliseconds < 1 {
            // A time-out already over may give up before a slow agent answers; the point
            // is that it gives up, with the client's code, rather than trapping.
            #expect(error.code == .timeout)
        }
    }

    @Test("a wait of any Int64 seconds is refused by the agent's range check, not trapped on by the client",
          arguments: [Int64.min, 0, 3601, .max])
    func anyWait(seconds: Int64) throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let client = AgentClient(socketPath: daemon.socket)
        #expect(throws: AgentClientError.self) { _ = try client.token(scopes: ["user:inference"], account: nil, wait: true, timeoutSeconds: seconds) }
        do {
            _ = try client.token(scopes: ["user:inference"], account: nil, wait: true, timeoutSeconds: seconds)
        } catch {
            #expect(error.code == .badRequest, "\(error)")
        }
    }
}
