import AgentProtocol
import ClaudeAgentClient
import Foundation
import Testing

/// The approval flow end to end: a tool waits for a token, a person approves it with an
/// account, the stand-in control browser logs in at the real OAuth server, and the tool
/// gets a token that works there.
@Suite("approval flow with a control browser and a real OAuth server", .serialized)
struct ApprovalFlowTests {
    struct World {
        let server: OAuthServer
        let browser: ControlBrowser?
        let sandbox: Sandbox
        let daemon: Daemon
        var socket: String { daemon.socket }
    }

    func world(controlBrowser: Bool = true, browserArguments: [String] = [], accessTokenSeconds: Int = 30) throws -> World {
        let server = try OAuthServer(accessTokenSeconds: accessTokenSeconds)
        let browser = controlBrowser ? try ControlBrowser(extra: browserArguments) : nil
        let sandbox = try Sandbox()
        let config = try server.writeConfig(in: sandbox, controlBrowser: browser?.url ?? "http://127.0.0.1:9")
        let daemon = try sandbox.startDaemon(["--config", config, "--skew", "1"])
        return World(server: server, browser: browser, sandbox: sandbox, daemon: daemon)
    }

    /// The id of the one live request, once it appears.
    func pendingApprovalID(_ world: World) throws -> String {
        let client = AgentClient(socketPath: world.socket)
        var id: String?
        _ = try eventually { id = try client.listRequests().first?.id; return id != nil }
        return try #require(id)
    }

    @Test("token --wait, then approve: the waiting tool gets a token that works at the server")
    func waitThenApprove() throws {
        let world = try world()
        let waiting = try world.sandbox.background(["token", "--wait", "--timeout", "60", "--scope", "user:inference", "-a", world.socket])
        let id = try pendingApprovalID(world)
        let list = try world.sandbox.cli("requests", "-a", world.socket)
        #expect(list.stdout.contains(id) && list.stdout.contains("pending") && list.stdout.contains("claude-agent"))
        let approve = try world.sandbox.cli("approve", id, "--account", "1", "-a", world.socket)
        #expect(approve.status == 0, "\(approve.stderr)")
        #expect(try waiting.wait() == 0, "\(waiting.stderr)")
        let token = waiting.stdout.trimmingCharacters(in: .newlines)
        #expect(try world.server.whoami(token) == "alice")
        #expect(waiting.stderr.contains("claude-agent approve \(id) --account"))
        // The account now exists and a second request is approved at once from the held token.
        let client = AgentClient(socketPath: world.socket)
        let second = try client.createRequest(scopes: ["user:inference"])
        let approved = try client.selectAccount(second.id, account: .id(1))
        #expect(approved.status == .approved)
        #expect(try client.request(second.id).token?.accessToken == token)
    }

    @Test("deny: the waiting tool gets denied, exit 6")
    func deny() throws {
        let world = try world()
        let waiting = try world.sandbox.background(["token", "--wait", "-a", world.socket])
        let id = try pendingApprovalID(world)
        #expect(try world.sandbox.cli("deny", id, "-a", world.socket).status == 0)
        #expect(try waiting.wait() == 6)
        #expect(waiting.stderr.contains("denied: request \(id) was denied"))
        #expect(waiting.stdout.isEmpty)
    }

    @Test("cancel: a request.wait gets the cancelled request; a second cancel is invalid_status")
    func cancel() throws {
        let world = try world()
        let client = AgentClient(socketPath: world.socket)
        let request = try client.createRequest(scopes: ["user:inference"], clientName: "tool", hostname: "box")
        #expect(request.status == .pending && request.clientName == "tool" && request.hostname == "box")
        #expect(request.callerPID == getpid())
        let waiter = try world.sandbox.background(["token", "--wait", "--timeout", "30", "-a", world.socket])
        _ = waiter
        let cancelled = try client.cancelRequest(request.id)
        #expect(cancelled.status == .cancelled)
        do {
            _ = try client.cancelRequest(request.id)
            Issue.record("cancelling twice must fail")
        } catch {
            #expect(error.code == .invalidStatus)
        }
        #expect(try client.waitForRequest(request.id, timeoutSeconds: 5).status == .cancelled)
    }

    @Test("a waiting client that disconnects has its request cancelled")
    func disconnectCancels() throws {
        let world = try world()
        let waiting = try world.sandbox.background(["token", "--wait", "-a", world.socket])
        let id = try pendingApprovalID(world)
        waiting.process.interrupt()  // Ctrl-C
        _ = try waiting.wait()
        let client = AgentClient(socketPath: world.socket)
        #expect(try eventually { try client.request(id).status == .cancelled })
        #expect(try client.request(id).error == "waiter gone")
        #expect(try client.listRequests().isEmpty)
    }

    @Test("control browser down: the request ends in error with the reason")
    func controlBrowserDown() throws {
        let world = try world(controlBrowser: false)
        let client = AgentClient(socketPath: world.socket)
        let request = try client.createRequest(scopes: ["user:inference"])
        let approve = try world.sandbox.cli("approve", request.id, "--account", "1", "-a", world.socket)
        #expect(approve.status == 7)
        #expect(approve.stderr.hasPrefix("claude-agent: control_browser_failed:"))
        let ended = try client.request(request.id)
        #expect(ended.status == .error)
        #expect(ended.error?.hasPrefix("control browser:") == true)
    }

    @Test("a control browser answering 500 moves the request to error")
    func controlBrowserFails() throws {
        let world = try world(browserArguments: ["--fail-status", "500"])
        let client = AgentClient(socketPath: world.socket)
        let request = try client.createRequest(scopes: ["user:inference"])
        do {
            _ = try client.selectAccount(request.id, account: .id(2))
            Issue.record("select_account must fail")
        } catch {
            #expect(error.code == .controlBrowserFailed)
            #expect(error.message.contains("HTTP 500"))
        }
        #expect(try client.request(request.id).status == .error)
    }

    @Test("a wrong state and a replayed callback are refused and change nothing")
    func wrongAndReplayedState() throws {
        let world = try world(controlBrowser: false)
        let client = AgentClient(socketPath: world.socket)
        let request = try client.createRequest(scopes: ["user:inference"])
        let selected = try client.selectAccount(request.id, account: .name("bob"), printURL: true,
                                                redirectURI: "http://127.0.0.1:9/oauth/callback")
        #expect(selected.status == .inProgress)
        let url = try #require(selected.authorizeURL)
        do {
            _ = try client.completeLogin(state: "not-the-state", code: "whatever")
            Issue.record("an unknown state must be refused")
        } catch {
            #expect(error.code == .invalidState)
        }
        #expect(try client.request(request.id).status == .inProgress)
        let redirect = try Sandbox.runPeer("browser.py", ["--user", "bob", "--password", "bob-password", "--no-callback", url])
        let location = try #require(redirect.stdout.split(separator: " ").last.map { String($0).trimmingCharacters(in: .newlines) })
        let query = try #require(URLComponents(string: location)?.queryItems)
        let code = try #require(query.first { $0.name == "code" }?.value)
        let state = try #require(query.first { $0.name == "state" }?.value)
        #expect(state != request.id)  // the state is not the (public) request id
        _ = try client.completeLogin(state: state, code: code)
        let approved = try client.request(request.id)
        #expect(approved.status == .approved)
        #expect(try world.server.whoami(try #require(approved.token?.accessToken)) == "bob")
        do {
            _ = try client.completeLogin(state: state, code: code)
            Issue.record("a replayed callback must be refused")
        } catch {
            #expect(error.code == .invalidState)
        }
        #expect(try client.request(request.id).status == .approved)
    }

    /// The code and state of the provider's redirect for `url`, logged in as bob, without
    /// delivering it to the redirect URI.
    func redirect(_ url: String) throws -> (code: String, state: String) {
        let redirect = try Sandbox.runPeer("browser.py", ["--user", "bob", "--password", "bob-password", "--no-callback", url])
        let location = try #require(redirect.stdout.split(separator: " ").last.map { String($0).trimmingCharacters(in: .newlines) })
        let query = try #require(URLComponents(string: location)?.queryItems)
        return (try #require(query.first { $0.name == "code" }?.value), try #require(query.first { $0.name == "state" }?.value))
    }

    /// A client waiting for a token, its pending request, and `approve --print-url` for it
    /// with account bob running (no control browser: the test plays the browser).
    func approvingAsBob() throws -> (world: World, waiting: BackgroundCommand, id: String, approve: BackgroundCommand) {
        let world = try world(controlBrowser: false)
        let waiting = try world.sandbox.background(["token", "--wait", "--timeout", "120", "--scope", "user:inference", "-a", world.socket])
        let id = try pendingApprovalID(world)
        let approve = try world.sandbox.background(["approve", id, "--account", "bob", "--print-url", "--timeout", "120", "-a", world.socket])
        return (world, waiting, id, approve)
    }

    @Test("approve ends once the request is approved another way: the code relayed over the socket, not to its listener")
    func approveFollowsTheRequest() throws {
        let (world, waiting, id, approve) = try approvingAsBob()
        let url = try approve.firstLine()
        let (code, state) = try redirect(url)
        // As the bridge's /oauth/callback does: the code reaches the agent, not approve.
        _ = try AgentClient(socketPath: world.socket).completeLogin(state: state, code: code)
        #expect(try approve.wait(timeoutMilliseconds: 60_000) == 0, "\(approve.stderr)")
        #expect(approve.stdout == url + "\n")
        #expect(approve.stderr == "Open the URL above in account bob's browser to approve request \(id).\nApproved request \(id) with account bob.\n")
        #expect(try waiting.wait() == 0, "\(waiting.stderr)")
        #expect(try world.server.whoami(waiting.stdout.trimmingCharacters(in: .newlines)) == "bob")
    }

    @Test("approve ends with the request: denied meanwhile is exit 6 with the reason")
    func approveSeesTheDenial() throws {
        let (world, waiting, id, approve) = try approvingAsBob()
        _ = try approve.firstLine()
        #expect(try world.sandbox.cli("deny", id, "--reason", "not today", "-a", world.socket).status == 0)
        #expect(try approve.wait(timeoutMilliseconds: 60_000) == 6)
        #expect(approve.stderr.hasSuffix("claude-agent: denied: request \(id) was denied: not today\n"), "\(approve.stderr)")
        #expect(try waiting.wait() == 6)
    }

    @Test("a token --wait that times out cancels its request at once (waiter gone); approve then refuses it")
    func timedOutWaitCancels() throws {
        let world = try world()
        let result = try world.sandbox.cli("token", "--wait", "--timeout", "1", "--scope", "user:inference", "-a", world.socket)
        #expect(result.status == 6)
        let prefix = "Waiting for approval of request "
        let id = String(try #require(result.stderr.split(separator: "\n").first?.dropFirst(prefix.count).prefix(36)))
        #expect(result.stderr == "\(prefix)\(id): claude-agent approve \(id) --account NAME\n"
                + "claude-agent: timeout: token request \(id) was still pending when the wait ran out; it is cancelled\n")
        let client = AgentClient(socketPath: world.socket)
        let ended = try client.request(id)
        #expect(ended.status == .cancelled && ended.error == "waiter gone")
        #expect(try client.listRequests().isEmpty)
        let approve = try world.sandbox.cli("approve", id, "--account", "1", "-a", world.socket)
        #expect(approve.status == 7)
        #expect(approve.stderr == "claude-agent: invalid_status: token request \(id) is cancelled; an account can no longer be selected\n")
    }

    @Test("an approver's wait neither holds nor cancels a request; its maker's Ctrl-C cancels it and the approver hears why")
    func approverWaitDoesNotHold() throws {
        let world = try world()
        let waiting = try world.sandbox.background(["token", "--wait", "--timeout", "120", "--scope", "user:inference", "-a", world.socket])
        let id = try pendingApprovalID(world)
        let approver = AgentClient(socketPath: world.socket)
        do {
            _ = try approver.waitForRequest(id, timeoutSeconds: 1)
            Issue.record("the approver's wait must time out")
        } catch {
            #expect(error.code == .timeout)
        }
        #expect(try approver.request(id).status == .pending)
        waiting.process.interrupt()  // Ctrl-C
        _ = try waiting.wait()
        let ended = try approver.waitForRequest(id, timeoutSeconds: 30)
        #expect(ended.status == .cancelled && ended.error == "waiter gone")
    }

    @Test("a request relayed for another process (the bridge's) outlives a wait that ran out")
    func relayedRequestKeepsItsLifetime() throws {
        let world = try world()
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["60"]
        try sleeper.run()
        defer { sleeper.terminate() }
        let relay = AgentClient(socketPath: world.socket)
        let created = try relay.call(.requestCreate, ["scopes": .array([.string("user:inference")]),
                                                       "caller_pid": .int(Int64(sleeper.processIdentifier))])
        let id = try #require(created["request_id"]?.stringValue)
        #expect(created["caller"]?["pid"]?.intValue == Int64(sleeper.processIdentifier))
        do {
            _ = try relay.waitForRequest(id, timeoutSeconds: 1)
            Issue.record("the wait must time out")
        } catch {
            #expect(error.code == .timeout)
        }
        relay.close()
        #expect(try AgentClient(socketPath: world.socket).request(id).status == .pending)
    }

    @Test("consent refused at the provider (access_denied) denies the request")
    func consentRefused() throws {
        let world = try world(browserArguments: ["--deny-accounts", "2"])
        let waiting = try world.sandbox.background(["token", "--wait", "-a", world.socket])
        let id = try pendingApprovalID(world)
        let approve = try world.sandbox.cli("approve", id, "--account", "2", "-a", world.socket)
        #expect(approve.status == 6, "\(approve.stderr)")
        #expect(try waiting.wait() == 6)
        #expect(waiting.stderr.contains("was denied"))
        #expect(try AgentClient(socketPath: world.socket).request(id).status == .denied)
    }

    @Test("two requests for different accounts approved concurrently each get their own account's token")
    func concurrentApprovals() throws {
        let world = try world()
        let client = AgentClient(socketPath: world.socket)
        let first = try client.createRequest(scopes: ["user:inference"], clientName: "one")
        let second = try client.createRequest(scopes: ["user:inference"], clientName: "two")
        let approveFirst = try world.sandbox.background(["approve", first.id, "--account", "1", "-a", world.socket])
        let approveSecond = try world.sandbox.background(["approve", second.id, "--account", "2", "-a", world.socket])
        #expect(try approveFirst.wait() == 0, "\(approveFirst.stderr)")
        #expect(try approveSecond.wait() == 0, "\(approveSecond.stderr)")
        let one = try #require(try client.waitForRequest(first.id, timeoutSeconds: 30).token?.accessToken)
        let two = try #require(try client.waitForRequest(second.id, timeoutSeconds: 30).token?.accessToken)
        #expect(try world.server.whoami(one) == "alice")
        #expect(try world.server.whoami(two) == "bob")
        #expect(try client.listAccounts().map(\.id) == [1, 2])
    }

    @Test("the library's token(wait:) returns the token once approved; the refresh token never leaves the agent")
    func libraryWait() throws {
        let world = try world()
        let socket = world.socket
        nonisolated(unsafe) var received: AccessToken?
        let done = DispatchSemaphore(value: 0)
        Thread {
            received = try? AgentClient(socketPath: socket).token(scopes: ["user:inference"], account: nil, wait: true, timeoutSeconds: 60)
            done.signal()
        }.start()
        let id = try pendingApprovalID(world)
        // Id 3 is the control browser's profile of carol; a new account named by id gets a name from it.
        #expect(try world.sandbox.cli("approve", id, "--account", "3", "-a", socket).status == 0)
        #expect(done.wait(timeout: .now() + 60) == .success)
        let token = try #require(received)
        #expect(token.account == "account-3" && token.accountID == 3)
        #expect(try world.server.whoami(token.accessToken) == "carol")
        let raw = try RawConnection(path: socket).call(#"{"id": 1, "op": "request.get", "request_id": "\#(id)"}"#)
        #expect(!"\(raw)".contains("refresh_token"))
    }
}
