import Foundation
import Testing

/// Agent forwarding over a real OpenSSH: an `sshd` of its own on 127.0.0.1 (its own
/// configuration and host key in a temporary directory, a free high port) and a second
/// local user as the "remote" account. `ssh -R` carries the agent's socket to it, as a
/// user forwards it to a build host.
@Suite("Forwarding the agent's socket with ssh -R")
struct ForwardingEndToEndTests {
    /// The second user; created once with useradd, kept (tests may run concurrently).
    static let remoteUser = "cagent-fwd"
    static let sshd = "/usr/sbin/sshd"
    static let userLock = NSLock()
    static var runnable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: sshd)
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh")
    }

    /// An sshd configuration, host and client keys, and the remote user; removed with the
    /// value. sshd itself runs inside each test's script (`startSSHD`, `stopSSHD`).
    final class SSHWorld {
        let directory: String
        let port: Int
        let cli: String

        init(sandbox: Sandbox) throws {
            // One test at a time adds the user: useradd takes a lock on /etc/passwd.
            ForwardingEndToEndTests.userLock.lock()
            defer { ForwardingEndToEndTests.userLock.unlock() }
            directory = "/tmp/claude-agent-ssh-" + UUID().uuidString.prefix(8)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o755])
            let user = ForwardingEndToEndTests.remoteUser
            let setUp = try sandbox.run("/bin/sh", ["-c", """
                set -e
                PATH=/usr/sbin:/usr/bin:/sbin:/bin
                id -u \(user) >/dev/null 2>&1 || useradd --create-home --shell /bin/sh \(user) 2>/dev/null || id -u \(user) >/dev/null
                # useradd leaves the password "!", which sshd (without PAM) takes for a locked
                # account even for public-key logins; "*" is no password and not locked.
                usermod -p '*' \(user)
                mkdir -p /run/sshd && chmod 0755 /run/sshd
                cd \(directory)
                ssh-keygen -q -t ed25519 -N '' -f host_key
                ssh-keygen -q -t ed25519 -N '' -f client_key
                cp client_key.pub authorized_keys && chmod 0644 authorized_keys
                mkdir remote && chown \(user) remote && chmod 0700 remote
                python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
                """])
            guard setUp.status == 0, let port = Int(setUp.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw TestFailure("setting up sshd failed: \(setUp.stderr)")
            }
            self.port = port
            try """
                ListenAddress 127.0.0.1
                Port \(port)
                HostKey \(directory)/host_key
                PidFile \(directory)/sshd.pid
                AuthorizedKeysFile \(directory)/authorized_keys
                StrictModes no
                UsePAM no
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PermitRootLogin no
                AllowUsers \(user)
                AllowStreamLocalForwarding yes
                StreamLocalBindUnlink yes
                """.write(toFile: directory + "/sshd_config", atomically: true, encoding: .utf8)
            cli = directory + "/claude-agent"
            try FileManager.default.copyItem(atPath: Binaries.cli, toPath: cli)
        }

        deinit {
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// Shell lines that start sshd in the background and wait (at most 10 s) until it
        /// listens, and that stop it. sshd runs inside the test's script, as its child.
        var startSSHD: String {
            """
            \(ForwardingEndToEndTests.sshd) -D -e -f \(directory)/sshd_config 2>\(directory)/sshd.log &
            sshd=$!
            i=0
            until python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \(port) 2>/dev/null \
                || [ $i -ge 100 ]; do sleep 0.1; i=$((i+1)); done

            """
        }
        var stopSSHD: String { "\nkill $sshd; wait $sshd 2>/dev/null\n" }

        /// The remote end of the forwarded socket (in a directory only the remote user enters).
        var remoteSocket: String { directory + "/remote/agent.sock" }

        /// `ssh` with everything it needs on its command line, forwarding `agentSocket`.
        func sshCommand(forwarding agentSocket: String, _ remoteCommand: String) -> String {
            """
            ssh -F /dev/null -i \(directory)/client_key -o UserKnownHostsFile=\(directory)/known_hosts \
            -o StrictHostKeyChecking=no -o LogLevel=ERROR -o BatchMode=yes -o ExitOnForwardFailure=yes -o StreamLocalBindUnlink=yes \
            -p \(port) -R \(remoteSocket):\(agentSocket) \(ForwardingEndToEndTests.remoteUser)@127.0.0.1 '\(remoteCommand)'
            """
        }
    }

    @Test("a token is fetched through the forwarded socket, and a request made there is shown as forwarded",
          .enabled(if: runnable, "needs root (sshd, useradd, a second user) and openssh-server"))
    func forwardedToken() throws {
        let sandbox = try Sandbox()
        let world = try SSHWorld(sandbox: sandbox)
        let daemon = try sandbox.startDaemon()
        #expect(try sandbox.cli("add", "--account", "alice", "-a", daemon.socket,
                                stdin: bundle("at-forwarded", scopes: "user:inference")).status == 0)
        let remote = """
            \(world.cli) token -a \(world.remoteSocket); \
            \(world.cli) token --wait --timeout 60 --scope user:other -a \(world.remoteSocket); echo "wait exit $?"
            """
        // The remote side waits for approval; the local side finds its request, checks how
        // it is shown, and denies it, which ends the remote wait.
        let result = try run(sandbox, world.startSSHD + """
            \(world.sshCommand(forwarding: daemon.socket, remote)) > \(world.directory)/remote.out 2>&1 &
            ssh=$!
            i=0
            while [ $i -lt 400 ]; do
                claude-agent requests -a \(daemon.socket) | grep -q 'via ssh' && break
                sleep 0.05; i=$((i+1))
            done
            claude-agent requests -a \(daemon.socket) | sed -n 2p | grep -o '[^ ]* (via ssh [^)]*) *[^ ]*$' | tr -s ' '
            claude-agent requests --json -a \(daemon.socket) | tr -d ' \\n' | grep -o '"forwarded":{[^}]*}'
            id=$(claude-agent requests -a \(daemon.socket) | sed -n 2p | cut -d' ' -f1)
            claude-agent deny "$id" -a \(daemon.socket) >/dev/null
            wait $ssh; echo "ssh exit $?"
            cat \(world.directory)/remote.out
            """ + world.stopSSHD)
        let hostname = ProcessInfo.processInfo.hostName
        let user = Self.remoteUser
        #expect(result.stdout.hasPrefix("""
            \(hostname) (via ssh \(user)@127.0.0.1) user:other
            "forwarded":{"via":"ssh","destination":"\(user)@127.0.0.1"}
            ssh exit 0
            at-forwarded

            """), "\(result.stdout)\n\(result.stderr)")
        // The remote's stdout and stderr come back on separate channels: order across them is not kept.
        #expect(result.stdout.contains("\nwait exit 6\n"), "\(result.stdout)")
        #expect(result.stdout.contains("was denied: denied by the user\n"), "\(result.stdout)")
    }

    @Test("an agent started with --no-forward refuses callers through ssh and serves local ones",
          .enabled(if: runnable, "needs root (sshd, useradd, a second user) and openssh-server"))
    func noForward() throws {
        let sandbox = try Sandbox()
        let world = try SSHWorld(sandbox: sandbox)
        let daemon = try sandbox.startDaemon(["--no-forward"])
        #expect(try sandbox.cli("add", "--account", "alice", "-a", daemon.socket, stdin: bundle("at-local")).status == 0)
        let result = try run(sandbox, world.startSSHD + """
            \(world.sshCommand(forwarding: daemon.socket, "\(world.cli) token -a \(world.remoteSocket); echo \"remote exit $?\""))
            claude-agent token -a \(daemon.socket)
            """ + world.stopSSHD)
        #expect(result.stdout == "remote exit 6\nat-local\n", "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("this agent refuses connections forwarded through ssh (started with --no-forward)"),
                "\(result.stderr)")
        #expect(!result.stdout.contains("at-local\nat-local"))
        #expect(daemon.stop() == 0)
        #expect(daemon.logText.contains("refused a connection through ssh to \(Self.remoteUser)@127.0.0.1"), "\(daemon.logText)")
    }

    /// Runs the test's script (sshd, ssh and the CLI) with the built binaries on PATH.
    func run(_ sandbox: Sandbox, _ script: String) throws -> CommandResult {
        try sandbox.shell("set -u\n" + script)
    }
}
