import AgentPOSIX

/// Connections that arrive through a forwarded socket, as ssh-agent's forwarding does for
/// keys: `ssh -R /remote/agent.sock:$CLAUDE_AGENT_SOCK host` (or `RemoteForward`) makes the
/// local `ssh` client connect to the agent for each connection made on the remote host, so
/// the peer `SO_PEERCRED` reports is that `ssh` process, running as the agent's user; the
/// reverse set-up (`ssh -L` from another machine) makes it the local `sshd`. Either way the
/// uid check passes, which is the point of forwarding, and the caller is really on another
/// host: an approver should see that, and `--no-forward` can refuse it.
enum Forwarding {
    /// The process relaying a forwarded connection.
    struct Forwarder: Equatable {
        /// `ssh` or `sshd`: the relaying program's name.
        let via: String
        /// Where it connects to, from the `ssh` command line (`user@host`); nil for `sshd`
        /// or when it cannot be read.
        let destination: String?

        var description: String { destination.map { "\(via) to \($0)" } ?? via }
    }

    /// Programs that relay forwarded Unix sockets (OpenSSH's client and server).
    static let relayPrograms: Set<String> = ["ssh", "sshd"]

    /// The forwarder at the other end of a connection whose peer is `pid`, or nil when the
    /// peer is not an `ssh`/`sshd` process (or is gone).
    static func forwarder(pid: Int32) -> Forwarder? {
        guard let name = Caller.executableName(pid: pid), relayPrograms.contains(name) else { return nil }
        let destination = name == "ssh" ? Caller.arguments(pid: pid).flatMap(sshDestination) : nil
        return Forwarder(via: name, destination: destination)
    }

    /// ssh(1)'s options that take an argument (from its synopsis in OpenSSH 9).
    static let sshOptionsWithArgument: Set<Character> = [
        "B", "b", "c", "D", "E", "e", "F", "I", "i", "J", "L", "l", "m", "O", "o", "P", "p", "Q", "R", "S", "W", "w",
    ]

    /// The destination of an `ssh` command line (its arguments without `argv[0]`): the first
    /// argument that is not an option or an option's argument, with `-l USER` applied when
    /// it names no user. Nil when there is none.
    static func sshDestination(_ arguments: [String]) -> String? {
        var login: String?
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                guard index < arguments.endIndex else { return nil }
                return withLogin(arguments[index], login)
            }
            guard argument.hasPrefix("-"), argument.count > 1 else { return withLogin(argument, login) }
            // Flags may be grouped (-NT); an option taking an argument ends the group and
            // takes the rest of the word, or else the next word.
            var letters = argument.dropFirst()
            while let letter = letters.first {
                letters = letters.dropFirst()
                guard sshOptionsWithArgument.contains(letter) else { continue }
                var value = String(letters)
                if value.isEmpty, index < arguments.endIndex {
                    value = arguments[index]
                    index += 1
                }
                if letter == "l" { login = value }
                break
            }
        }
        return nil
    }

    private static func withLogin(_ destination: String, _ login: String?) -> String {
        guard let login, !destination.contains("@"), !destination.hasPrefix("ssh://") else { return destination }
        return "\(login)@\(destination)"
    }
}
