import Glibc

/// Where the agent's socket lives by default, shared by the daemon and the CLI.
public enum SocketPath {
    public static let fileName = "agent.sock"

    /// The agent a client talks to, as ssh-add finds ssh-agent: `explicit` (the `-a`
    /// option) when given, else `CLAUDE_AGENT_SOCK` when set and not empty, else
    /// `defaultPath()`. The one rule for the CLI, the client library, the bridge and the
    /// endpoint; the agent itself listens on `-a` or the default, never the variable.
    public static func resolve(explicit: String?) -> String {
        explicit ?? ProcessControl.environment("CLAUDE_AGENT_SOCK") ?? defaultPath()
    }

    /// `$XDG_RUNTIME_DIR/claude-agent/agent.sock`, or, without `XDG_RUNTIME_DIR`, a
    /// per-uid directory under /tmp (`/tmp/claude-agent-<uid>/agent.sock`), as tmux does.
    public static func defaultPath() -> String {
        "\(defaultDirectory())/\(fileName)"
    }

    /// `$XDG_RUNTIME_DIR/claude-agent` when `XDG_RUNTIME_DIR` is an absolute path, else
    /// `/tmp/claude-agent-<uid>`. The XDG Base Directory Specification says a relative
    /// path in an XDG variable is invalid and must be ignored: used as given, it would
    /// put the socket under whatever directory a command happens to run in.
    public static func defaultDirectory() -> String {
        if let runtime = ProcessControl.environment("XDG_RUNTIME_DIR"), runtime.hasPrefix("/") {
            return "\(runtime)/claude-agent"
        }
        return "/tmp/claude-agent-\(getuid())"
    }

    /// `XDG_RUNTIME_DIR` when it is set but relative, and so ignored; nil otherwise.
    public static func ignoredRuntimeDirectory() -> String? {
        guard let runtime = ProcessControl.environment("XDG_RUNTIME_DIR"), !runtime.isEmpty, !runtime.hasPrefix("/") else {
            return nil
        }
        return runtime
    }

    /// The warning both executables print when `XDG_RUNTIME_DIR` is ignored.
    public static func ignoredRuntimeDirectoryWarning(_ value: String) -> String {
        "warning: XDG_RUNTIME_DIR=\(value) is not an absolute path and is ignored (XDG Base Directory "
            + "Specification); using \(defaultDirectory())"
    }
}
