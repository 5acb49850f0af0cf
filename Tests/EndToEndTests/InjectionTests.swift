import Foundation
import Testing

/// Bytes from a token bundle, a peer or a person never reach a header line or a terminal raw.
@Suite("Header and terminal injection")
struct InjectionTests {
    @Test("add refuses an access or refresh token that could forge a header line: bad_request, exit 2; token --header prints one line")
    func headerInjection() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        let evil = #"{"access_token":"abc\r\nX-Evil: 1","expires_in":3600,"scope":"user:evil"}"#
        let add = try sandbox.cli("add", "--account", "evil", "-a", socket, stdin: evil)
        #expect(add.status == 2, "\(add.stderr)")
        #expect(add.stderr.hasPrefix("claude-agent: bad_request: field \"access_token\" must be an RFC 6750 b64token"))
        let refresh = #"{"access_token":"abc","refresh_token":"r 1","expires_in":3600}"#
        #expect(try sandbox.cli("add", "--account", "evil", "-a", socket, stdin: refresh).status == 2)
        // The agent refuses it too, whoever sends it.
        let raw = try RawConnection(path: socket)
        defer { raw.close() }
        for body in [#""access_token": "abc\r\nX-Evil: 1""#, #""access_token": "abc", "refresh_token": "x\ny""#] {
            let answer = try raw.call(#"{"id": 1, "op": "account.add", "account": "evil", \#(body)}"#)
            #expect(answer.errorCode == "bad_request")
        }
        let token = try sandbox.cli("token", "--account", "evil", "--header", "-a", socket)
        #expect(token.status == 3 && token.stdout.isEmpty)
    }

    @Test("control characters in client_name, hostname or a deny reason are refused at the door: bad_request")
    func terminalInjection() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        let raw = try RawConnection(path: socket)
        defer { raw.close() }
        for field in [#""client_name": "x\u001b[2J""#, #""hostname": "h\u0085""#, #""client_name": "a\u007fb""#,
                      #""hostname": "line\nclaude-agent: approved""#] {
            let answer = try raw.call(#"{"id": 1, "op": "request.create", "scopes": ["user:inference"], \#(field)}"#)
            #expect(answer.errorCode == "bad_request", "\(field): \(answer)")
        }
        let created = try raw.call(#"{"id": 2, "op": "request.create", "client_name": "tool", "hostname": "h", "scopes": ["user:inference"]}"#)
        let id = try #require(created.result?["request_id"] as? String)
        let deny = try sandbox.cli("deny", id, "--reason", "no\u{1B}]0;owned\u{07}", "-a", socket)
        #expect(deny.status == 2, "\(deny.stderr)")
        #expect(deny.stderr == "claude-agent: bad_request: field \"reason\" must not contain control characters\n")
        #expect(try sandbox.cli("deny", id, "--reason", "not today", "-a", socket).status == 0)
    }
}

@Suite("Bundles dead on arrival; account ids never reused")
struct DeadOnArrivalTests {
    @Test("a bundle without a refresh token inside the expiry skew is refused: expired, exit 4, naming the skew")
    func insideSkew() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        let add = try sandbox.cli("add", "--account", "sixty", "-a", socket, stdin: #"{"access_token":"c","expires_in":60}"#)
        #expect(add.status == 4, "\(add.stderr)")
        #expect(add.stderr.hasPrefix("claude-agent: expired: the token for account sixty expires at "))
        #expect(add.stderr.contains(", within the 60 s expiry skew and comes without a refresh token"))
        #expect(try sandbox.cli("list", "-a", socket).stdout == "The agent has no accounts.\n")
        // Outside the skew it is held and handed out.
        #expect(try sandbox.cli("add", "--account", "ok", "-a", socket, stdin: #"{"access_token":"c","expires_in":120}"#).status == 0)
        #expect(try sandbox.cli("token", "--account", "ok", "-a", socket).stdout == "c\n")
    }

    @Test("the id of a removed account is never given to the next one")
    func idsNotReused() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        #expect(try sandbox.cli("add", "--account", "first", "-a", socket, stdin: bundle("tok-1")).stderr.hasPrefix("Added account first (#1)"))
        #expect(try sandbox.cli("remove", "1", "-a", socket).status == 0)
        let next = try sandbox.cli("add", "--account", "second", "-a", socket, stdin: bundle("tok-2"))
        #expect(next.stderr.hasPrefix("Added account second (#2)"), "\(next.stderr)")
        #expect(try sandbox.cli("token", "--account", "1", "-a", socket).status == 3)
        let explicit = try sandbox.cli("add", "--account", "again", "--account-id", "1", "-a", socket, stdin: bundle("tok-3"))
        #expect(explicit.stderr.hasPrefix("Added account again (#1)"))
    }
}

@Suite("login without a listener at end of input")
struct LoginEndOfInputTests {
    @Test("login --no-browser with stdin at its end fails at once: usage, exit 2")
    func loginAtEndOfInput() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        let login = try sandbox.run(Binaries.cli, ["login", "--account", "x2", "--no-browser", "-a", socket], timeout: 20)
        #expect(login.status == 2, "\(login.stderr)")
        #expect(login.stderr.hasSuffix("claude-agent: usage: end of input before a code was pasted: paste the code the provider's page shows (or the URL the browser ends on) on stdin\n"))
    }
}

@Suite("approve with another account than the request asked for")
struct ApproveOtherAccountTests {
    @Test("approve warns on stderr that the request asked for another account, and approves")
    func warnsOfOtherAccount() throws {
        let sandbox = try Sandbox()
        let socket = try sandbox.startDaemon().socket
        try sandbox.cli("add", "--account", "second", "-a", socket, stdin: bundle("tok-2"))
        let raw = try RawConnection(path: socket)
        defer { raw.close() }
        let created = try raw.call(#"{"id": 1, "op": "request.create", "account": "nosuch", "scopes": ["user:inference"]}"#)
        let id = try #require(created.result?["request_id"] as? String)
        let approve = try sandbox.cli("approve", id, "--account", "second", "-a", socket)
        #expect(approve.status == 0, "\(approve.stderr)")
        #expect(approve.stderr.hasPrefix("claude-agent: warning: request \(id) asked for account nosuch; approving it with account second\n"))
        // Asked for the account it gets: no warning.
        let again = try raw.call(#"{"id": 2, "op": "request.create", "account": "second", "scopes": ["user:inference"]}"#)
        let second = try #require(again.result?["request_id"] as? String)
        let quiet = try sandbox.cli("approve", second, "--account", "second", "-a", socket)
        #expect(quiet.status == 0 && !quiet.stderr.contains("warning"), "\(quiet.stderr)")
    }
}
