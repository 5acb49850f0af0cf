import Foundation
import Testing

/// A credentials file shared with other tools (Claude Code rewrites its own when it
/// refreshes): the file is the truth, and the agent never refreshes a token another
/// writer already rotated.
@Suite("Credentials files shared with other writers")
struct SharedCredentialsTests {
    /// Claude Code's dialect, with an `expiresAt` `offset` seconds from now, in ms.
    static func claudeCodeFile(access: String, refresh: String, expiresIn offset: Int) -> String {
        let expiresMs = Int(Date().timeIntervalSince1970 * 1000) + offset * 1000
        return #"{"claudeAiOauth": {"accessToken": "\#(access)", "refreshToken": "\#(refresh)", "expiresAt": \#(expiresMs), "scopes": ["user:inference"], "subscriptionType": "max"}}"#
    }

    /// Writes `.credentials.json` in `sandbox` with a current at-0/rt-0 and file `mode`;
    /// returns its path.
    static func importableFile(in sandbox: Sandbox, mode: Int) throws -> String {
        let path = sandbox.root + "/.credentials.json"
        try claudeCodeFile(access: "at-0", refresh: "rt-0", expiresIn: 3600).write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    /// A sandbox whose `.credentials.json` holds Claude Code's pair at-0/rt-0, expiring
    /// `expiresIn` seconds from now, with the default provider pointed at a scripted
    /// endpoint that rotates (rt-0 becomes at-1/rt-1).
    struct SharedFile {
        let provider: ScriptedProvider
        let key = ScriptedProvider.newKey()
        let sandbox: Sandbox
        let path: String

        init(expiresIn: Int) throws {
            provider = try ScriptedProvider.start()
            sandbox = try Sandbox()
            path = sandbox.root + "/.credentials.json"
            try write(SharedCredentialsTests.claudeCodeFile(access: "at-0", refresh: "rt-0", expiresIn: expiresIn))
            sandbox.environment.merge(provider.environment(key: key, "mode=rotate")) { _, new in new }
        }

        func write(_ text: String) throws {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }

        /// What another tool writes after refreshing rt-0 itself (as Claude Code does).
        func rotatedByAnotherTool() throws -> String {
            let rotated = try provider.refreshAsAnotherTool(key: key, "mode=rotate", refreshToken: "rt-0")
            return SharedCredentialsTests.claudeCodeFile(access: rotated.access, refresh: rotated.refresh, expiresIn: 3600)
        }

        /// `token` answered with the pair another writer rotated (at-1), and the provider
        /// saw rt-0 once: the agent adopted, it did not refresh again.
        func expectAdopted(_ token: CommandResult) throws {
            #expect(token.status == 0, "\(token.stderr)")
            #expect(token.stdout == "at-1\n")
            #expect(try provider.refreshTokensSeen(key: key) == ["rt-0"])
        }

        /// Another tool holds `lock` (Python `script` takes it, prints "locked", waits, writes
        /// the rotated pair to the file and lets go) while the agent is asked for an expired
        /// token: the agent waits for the lock, then adopts what the tool wrote.
        func expectWaitsAndAdopts(lock: String, script: String) throws {
            let daemon = try sandbox.startDaemon(["--persist", path])
            let tool = try BackgroundCommand("/usr/bin/python3", ["-c", script, lock, path, try rotatedByAnotherTool()],
                                             environment: sandbox.environment)
            #expect(try tool.firstLine() == "locked")
            let token = try sandbox.cli("token", "-a", daemon.socket)
            #expect(try tool.wait() == 0)
            try expectAdopted(token)
        }
    }

    @Test("another tool refreshed and wrote the file after the agent read it: the agent adopts its pair instead of refreshing")
    func adoptsAnotherWritersPair() throws {
        let shared = try SharedFile(expiresIn: -10)
        let daemon = try shared.sandbox.startDaemon(["--persist", shared.path])
        // Claude Code, in real life: refreshes with rt-0 and writes the new pair.
        try shared.write(try shared.rotatedByAnotherTool())

        try shared.expectAdopted(try shared.sandbox.cli("token", "-a", daemon.socket))
        #expect(daemon.stop() == 0)
        #expect(daemon.logText.contains("adopted newer tokens another tool wrote to \(shared.path)"))
    }

    @Test("a cooperating tool holding the file's lock while it refreshes: the agent waits, then adopts what it wrote")
    func waitsForTheLock() throws {
        let shared = try SharedFile(expiresIn: -10)
        // The tool: lock the sibling .lock, refresh (slowly), write, unlock.
        try shared.expectWaitsAndAdopts(lock: shared.sandbox.root + "/..credentials.json.lock", script: """
            import fcntl, sys, time
            lock = open(sys.argv[1], "a")
            fcntl.flock(lock, fcntl.LOCK_EX)
            print("locked", flush=True)
            time.sleep(1.5)
            with open(sys.argv[2] + ".tmp", "w") as f:
                f.write(sys.argv[3])
            import os
            os.rename(sys.argv[2] + ".tmp", sys.argv[2])
            """)
    }

    @Test("Claude Code refreshing under its own .oauth_refresh.lock: the agent waits for that lock too, then adopts what it wrote")
    func waitsForClaudeCodesLock() throws {
        let shared = try SharedFile(expiresIn: -10)
        // Claude Code's way (proper-lockfile): a lock directory, its refresh, the write, rmdir.
        try shared.expectWaitsAndAdopts(lock: shared.sandbox.root + "/.oauth_refresh.lock", script: """
            import os, sys, time
            os.mkdir(sys.argv[1])
            print("locked", flush=True)
            time.sleep(1.5)
            with open(sys.argv[2] + ".tmp", "w") as f:
                f.write(sys.argv[3])
            os.rename(sys.argv[2] + ".tmp", sys.argv[2])
            os.rmdir(sys.argv[1])
            """)
        // The agent removed the locks it took.
        #expect(!FileManager.default.fileExists(atPath: shared.sandbox.root + "/.oauth_refresh.lock"))
        #expect(!FileManager.default.fileExists(atPath: shared.sandbox.root + ".lock"))
    }

    @Test("two agents persisting the same file never refresh the same token: the second adopts what the first wrote")
    func twoAgents() throws {
        let shared = try SharedFile(expiresIn: 3600)
        let sandbox = shared.sandbox
        let first = try sandbox.startDaemon(["--persist", shared.path], socket: sandbox.runtimeDirectory + "/first.sock")
        let second = try sandbox.startDaemon(["--persist", shared.path], socket: sandbox.runtimeDirectory + "/second.sock")
        #expect(try sandbox.cli("token", "--refresh", "-a", first.socket).stdout == "at-1\n")
        try shared.expectAdopted(try sandbox.cli("token", "--refresh", "-a", second.socket))
        let written = try String(contentsOfFile: shared.path, encoding: .utf8)
        #expect(written.contains("\"refreshToken\": \"rt-1\""))
        #expect(written.contains("\"subscriptionType\": \"max\""))
    }

    @Test("add --from-file without --persist warns that the file's refresh token will die; with it, no warning")
    func importWarning() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let path = try Self.importableFile(in: sandbox, mode: 0o600)
        let plain = try sandbox.cli("add", "--from-file", path, "-a", daemon.socket)
        #expect(plain.status == 0)
        #expect(plain.stderr.contains("claude-agent: warning: without --persist the agent will not write rotated tokens back to \(path)"))
        #expect(plain.stderr.contains("Import with --persist to keep the file current."))
        let persisted = try sandbox.cli("add", "--from-file", path, "--persist", "-a", daemon.socket)
        #expect(persisted.status == 0)
        #expect(!persisted.stderr.contains("warning"))
    }

    @Test("one refresh token, one account: a second import of the same file under another name is refused; a file others can read is warned of")
    func oneAccountPerRefreshToken() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let path = try Self.importableFile(in: sandbox, mode: 0o644)
        let first = try sandbox.cli("add", "--from-file", path, "--account", "cc", "--persist", "-a", daemon.socket)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("claude-agent: warning: \(path) is open to other users (mode 644) and holds a refresh token: chmod 600 \(path)"))
        let second = try sandbox.cli("add", "--from-file", path, "--account", "cc2", "--persist", "-a", daemon.socket)
        #expect(second.status == 2, "\(second.stderr)")
        #expect(second.stderr.hasPrefix("claude-agent: bad_request: account cc (#1) already holds this refresh token"))
        // The same account taking its own file again is a refresh of what it holds, not a second holder.
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        let again = try sandbox.cli("add", "--from-file", path, "--account", "cc", "--persist", "-a", daemon.socket)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(!again.stderr.contains("open to other users"))
        #expect(try sandbox.cli("list", "-a", daemon.socket).stdout.components(separatedBy: "\n").filter { $0.contains("cc") }.count == 1)
    }

    @Test("an already expired token without a refresh token is refused: by add (exit 4) and by import")
    func deadOnArrival() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let add = try sandbox.cli("add", "--account", "w", "-a", daemon.socket,
                                  stdin: #"{"access_token": "at-old", "expires_in": -60}"#)
        #expect(add.status == 4)
        #expect(add.stderr.hasPrefix("claude-agent: expired: the token for account w expired at "))
        #expect(add.stderr.hasSuffix("and comes without a refresh token, so it could never be used: log in (claude-agent login) or add a current one\n"))
        #expect(try sandbox.cli("list", "-a", daemon.socket).stdout == "The agent has no accounts.\n")
        let path = sandbox.root + "/.credentials.json"
        try #"{"claudeAiOauth": {"accessToken": "at-old", "expiresAt": 1000}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let imported = try sandbox.cli("add", "--from-file", path, "-a", daemon.socket)
        #expect(imported.status == 4)
        #expect(imported.stderr.hasPrefix("claude-agent: expired: the token for account default expired at 1970-01-01T00:00:01Z"))
    }
}

/// The agent outlives its socket only by a moment (as gpg-agent checks its own).
@Suite("The agent and its socket")
struct SocketWatchTests {
    @Test("the socket removed: the agent logs why and exits 0")
    func removed() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon(["--socket-check-interval", "100"])
        try FileManager.default.removeItem(atPath: daemon.socket)
        #expect(try eventually(timeoutMilliseconds: 10_000) { !daemon.process.isRunning })
        daemon.process.waitUntilExit()
        #expect(daemon.process.terminationStatus == 0)
        #expect(daemon.logText.contains("the socket \(daemon.socket) was removed: no client can reach this agent; exiting"))
    }

    @Test("the socket replaced by another agent's: the first exits and leaves the new socket alone")
    func replaced() throws {
        let sandbox = try Sandbox()
        let socket = sandbox.runtimeDirectory + "/agent.sock"
        let first = try sandbox.startDaemon(["--socket-check-interval", "100"], socket: socket)
        try FileManager.default.removeItem(atPath: socket)
        let second = try sandbox.startDaemon([], socket: socket)
        #expect(try eventually(timeoutMilliseconds: 10_000) { !first.process.isRunning })
        let log = first.logText
        #expect(log.contains("the socket \(socket) was ") && log.contains(": no client can reach this agent; exiting"), "\(log)")
        let status = try sandbox.cli("status", "--json", "-a", socket)
        #expect(status.status == 0)
        #expect(status.stdout.contains("\"pid\": \(second.process.processIdentifier)"))
    }

    @Test("a relative XDG_RUNTIME_DIR is ignored with a warning, as the XDG spec says")
    func relativeRuntimeDirectory() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.cli("status", environment: ["XDG_RUNTIME_DIR": "relative/run"])
        #expect(result.stderr.hasPrefix("claude-agent: warning: XDG_RUNTIME_DIR=relative/run is not an absolute path and is "
                                        + "ignored (XDG Base Directory Specification); using /tmp/claude-agent-\(getuid())\n"),
                "\(result.stderr)")
        #expect(!result.stderr.contains("relative/run/claude-agent"))
    }
}
