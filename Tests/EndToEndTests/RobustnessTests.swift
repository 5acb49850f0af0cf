import ClaudeAgentClient
import Foundation
import Testing

@Suite("hostile and careless clients never hurt the agent or other clients")
struct RobustnessTests {
    @Test("a zero-length frame closes only that connection")
    func zeroLength() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let bystander = try RawConnection(path: daemon.socket)
        let bad = try RawConnection(path: daemon.socket)
        bad.send([0, 0, 0, 0])
        #expect(bad.isClosedByPeer())
        #expect(try bystander.isServed())
    }

    @Test("a frame over 256 KiB closes only that connection, before its body is read")
    func oversized() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let bad = try RawConnection(path: daemon.socket)
        bad.send([0, 4, 0, 1])  // 256 KiB + 1
        #expect(bad.isClosedByPeer())
        let exact = try RawConnection(path: daemon.socket)
        let padding = String(repeating: " ", count: 256 * 1024 - #"{"id":1,"op":"status"}"#.utf8.count)
        #expect(try exact.call(#"{"id":1,"op":"status"}"# + padding)["ok"] as? Bool == true)
    }

    @Test("malformed payloads are answered bad_request and the connection keeps working", arguments: [
        ("not json", "bad_request", 0),
        ("[1, 2]", "bad_request", 0),
        (#"{"id": "one", "op": "status"}"#, "bad_request", 0),
        (#"{"id": 5}"#, "bad_request", 5),
        (#"{"id": 6, "op": 7}"#, "bad_request", 6),
        (#"{"id": 7, "op": "token.get", "scopes": "user:inference"}"#, "bad_request", 7),
        (#"{"id": 8, "op": "token.get", "scopes": [1]}"#, "bad_request", 8),
        (#"{"id": 9, "op": "account.remove"}"#, "bad_request", 9),
        (#"{"id": 10, "op": "no.such.op"}"#, "unknown_op", 10),
        (#"{"id": 11, "op": "hello", "protocol": 0}"#, "unsupported_version", 11),
        (#"{"id": 12, "id": 12, "op": "status"}"#, "bad_request", 0),
    ])
    func malformed(payload: String, code: String, id: Int) throws {
        let agent = try ConnectedAgent()
        let answer = try agent.connection.call(payload)
        #expect(answer["ok"] as? Bool == false)
        #expect(answer.errorCode == code)
        #expect(answer["id"] as? Int == id)
        #expect(try agent.connection.isServed())
    }

    @Test("invalid UTF-8 in a payload is a bad_request, not a crash")
    func invalidUTF8() throws {
        let agent = try ConnectedAgent()
        let payload: [UInt8] = Array(#"{"id": 1, "op": ""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)
        agent.connection.send([0, 0, 0, UInt8(payload.count)] + payload)
        #expect(try agent.connection.receive()?.errorCode == "bad_request")
    }

    @Test("a truncated frame followed by EOF is dropped and the agent serves on")
    func truncated() throws {
        let agent = try ConnectedAgent()
        agent.connection.send(Array(RawConnection.frame(#"{"id": 1, "op": "status"}"#).prefix(10)))
        agent.connection.close()
        #expect(try agent.sandbox.cli("status", "-a", agent.daemon.socket).status == 0)
    }

    @Test("an idle connection is closed after the idle time-out; one waiting for an answer is not")
    func idleTimeout() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon(["--idle-timeout", "1"])
        let idle = try RawConnection(path: daemon.socket)
        #expect(try idle.call(#"{"id": 1, "op": "hello"}"#)["ok"] as? Bool == true)
        let waiting = try RawConnection(path: daemon.socket)
        let created = try waiting.call(#"{"id": 1, "op": "request.create", "scopes": []}"#)
        let id = try #require(created.result?["request_id"] as? String)
        waiting.send(json: #"{"id": 2, "op": "request.wait", "request_id": "\#(id)", "timeout": 3}"#)
        let start = Date()
        #expect(idle.isClosedByPeer())
        #expect(Date().timeIntervalSince(start) < 2.5)
        #expect(try waiting.receive()?.errorCode == "timeout")  // answered at 3 s, not closed at 1 s
    }

    @Test("a relayed caller_pid is used for the same user and ignored for another",
          .enabled(if: getuid() == 0, "a process of another uid needs root"))
    func relayedCaller() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let sameUser = Process()
        sameUser.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sameUser.arguments = ["10"]
        try sameUser.run()
        defer { kill(sameUser.processIdentifier, SIGKILL) }
        let otherUser = Process()
        otherUser.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        otherUser.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sleep", "10"]
        try otherUser.run()
        defer { kill(otherUser.processIdentifier, SIGKILL) }
        _ = try eventually { (try? String(contentsOfFile: "/proc/\(otherUser.processIdentifier)/status", encoding: .utf8))?.contains("65534") == true }
        let connection = try RawConnection(path: daemon.socket)
        let same = try connection.call(#"{"id": 1, "op": "request.create", "caller_pid": \#(sameUser.processIdentifier)}"#)
        let sameCaller = same.result?["caller"] as? [String: Any]
        #expect(sameCaller?["pid"] as? Int == Int(sameUser.processIdentifier))
        #expect(sameCaller?["command_line"] as? String == "/bin/sleep 10")
        let other = try connection.call(#"{"id": 2, "op": "request.create", "caller_pid": \#(otherUser.processIdentifier)}"#)
        #expect((other.result?["caller"] as? [String: Any])?["pid"] as? Int == Int(getpid()))
    }

    @Test("pipelined requests are answered in order on one connection")
    func pipelining() throws {
        let agent = try ConnectedAgent()
        var bytes: [UInt8] = []
        for id in 1...50 { bytes += RawConnection.frame(#"{"id": \#(id), "op": "hello"}"#) }
        agent.connection.send(bytes)
        for id in 1...50 { #expect(try agent.connection.receive()?["id"] as? Int == id) }
    }

    @Test("a silent client that sent half a frame does not delay another client")
    func slowClient() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let slow = try RawConnection(path: daemon.socket)
        slow.send([0, 0])  // half a header, then nothing
        let silentReader = try RawConnection(path: daemon.socket)
        var flood: [UInt8] = []
        for id in 1...2000 { flood += RawConnection.frame(#"{"id": \#(id), "op": "status"}"#) }
        silentReader.send(flood)  // asks much, never reads the answers
        let start = Date()
        let fast = try RawConnection(path: daemon.socket)
        #expect(try fast.call(#"{"id": 1, "op": "hello"}"#)["ok"] as? Bool == true)
        #expect(Date().timeIntervalSince(start) < 2)
        _ = slow
    }

    /// The cap is 4096 connections, or fewer when the open-file limit is lower: 320 open
    /// files leave room for 256 (the agent keeps 64 for itself), so the agent answers
    /// `busy` instead of failing `accept` with EMFILE.
    @Test("past the connection cap, a new connection is answered busy and closed; the others still work")
    func connectionCap() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon(openFiles: 320)
        var open: [RawConnection] = []
        for _ in 0..<256 { open.append(try RawConnection(path: daemon.socket)) }
        // Make sure the agent has accepted them all before the extra one.
        #expect(try open[255].call(#"{"id": 1, "op": "hello"}"#)["ok"] as? Bool == true)
        let extra = try RawConnection(path: daemon.socket)
        let answer = try extra.receive()
        #expect(answer?.errorCode == "busy")
        #expect(answer?["id"] as? Int == 0)
        #expect(extra.isClosedByPeer())
        #expect(try open[0].isServed())
        for connection in open { connection.close() }
    }

    @Test("a peer with another uid is closed without an answer and logged",
          .enabled(if: getuid() == 0, "switching to uid 65534 needs root"))
    func otherUIDRefused() throws {
        let sandbox = try Sandbox()
        // A world-reachable socket, so only the SO_PEERCRED check stands between.
        let open = "/tmp/claude-agent-peer-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: open) }
        chmod(open, 0o777)
        let socket = open + "/agent.sock"
        let daemon = try sandbox.startDaemon(socket: socket)
        chmod(socket, 0o666)
        try FileManager.default.copyItem(atPath: Binaries.cli, toPath: open + "/claude-agent")
        let result = try sandbox.run("/usr/bin/setpriv",
                                     ["--reuid=65534", "--regid=65534", "--clear-groups", open + "/claude-agent", "status", "-a", socket])
        #expect(result.status == 1)
        #expect(result.stderr.contains("the agent closed the connection"))
        #expect(try sandbox.cli("status", "-a", socket).status == 0)
        #expect(daemon.stop() == 0)
        #expect(daemon.logText.contains("refused a connection from uid 65534"))
    }
}

@Suite("the client library")
struct ClientLibraryTests {
    @Test("a missing agent is agentNotRunning")
    func notRunning() throws {
        let client = AgentClient(socketPath: "/nonexistent/agent.sock")
        #expect(throws: AgentClientError.self) { try client.status() }
        do { _ = try client.status() } catch { #expect(error.code == .agentNotRunning) }
    }

    @Test("typed calls: add, list, token, remove, and the agent's error codes")
    func typedCalls() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let client = AgentClient(socketPath: daemon.socket)
        #expect(try client.hello().protocolVersion == 1)
        let summary = try client.addAccount("lib", token: .init(accessToken: "tok-lib", refreshToken: nil,
                                                                expiresAt: Int64(Date().timeIntervalSince1970) + 3600,
                                                                tokenType: "Bearer", scopes: ["user:inference"]))
        #expect(summary.name == "lib" && summary.id == 1 && summary.state == .ok)
        #expect(try client.listAccounts().map(\.name) == ["lib"])
        #expect(try client.token(scopes: ["user:inference"]).accessToken == "tok-lib")
        do { _ = try client.token(scopes: ["other"]) } catch { #expect(error.code == .noToken) }
        try client.removeAccount(.name("lib"))
        do { try client.removeAccount(.name("lib")) } catch { #expect(error.code == .notFound) }
        #expect(try client.status().accounts == 0)
    }

    @Test("AuthResolver: auth token first, then API key, then the agent (Claude Code's order); empty values are unset")
    func resolverPrecedence() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let client = AgentClient(socketPath: daemon.socket)
        try client.addAccount("r", token: .init(accessToken: "tok-agent", refreshToken: nil, expiresAt: nil,
                                                tokenType: "Bearer", scopes: ["user:inference"]))
        let agent = { AgentClient(socketPath: daemon.socket) }

        let both = try AuthResolver(environment: ["ANTHROPIC_API_KEY": "key", "ANTHROPIC_AUTH_TOKEN": "at"], agent: agent).resolve()
        #expect(both.source == .authToken)
        #expect(both.headers.map(\.value) == ["Bearer at"])

        let keyOnly = try AuthResolver(environment: ["ANTHROPIC_API_KEY": "key", "ANTHROPIC_AUTH_TOKEN": ""], agent: agent).resolve()
        #expect(keyOnly.source == .apiKey)
        #expect(keyOnly.headers.map(\.name) == ["x-api-key"] && keyOnly.headers.map(\.value) == ["key"])

        let fromAgent = try AuthResolver(environment: [:], agent: agent).resolve()
        #expect(fromAgent.source == .agent)
        #expect(fromAgent.headers.map(\.name) == ["Authorization"] && fromAgent.headers.map(\.value) == ["Bearer tok-agent"])

        let noAgent = AuthResolver(environment: [:], agent: { AgentClient(socketPath: "/nonexistent.sock") })
        do { _ = try noAgent.resolve() } catch { #expect(error.code == .agentNotRunning) }
    }
}
