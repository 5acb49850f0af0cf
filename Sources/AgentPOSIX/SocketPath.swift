import Glibc

/// Where the agent's socket lives by default, shared by the daemon and the CLI.
public enum SocketPath {
    public static let fileName = "agent.sock"

    /// `$XDG_RUNTIME_DIR/claude-agent/agent.sock`, or, without `XDG_RUNTIME_DIR`, a
    /// per-uid directory under /tmp (`/tmp/claude-agent-<uid>/agent.sock`), as tmux does.
    public static func defaultPath() -> String {
        "\(defaultDirectory())/\(fileName)"
    }

    public static func defaultDirectory() -> String {
        if let runtime = ProcessControl.environment("XDG_RUNTIME_DIR") {
            return "\(runtime)/claude-agent"
        }
        return "/tmp/claude-agent-\(getuid())"
    }
}
