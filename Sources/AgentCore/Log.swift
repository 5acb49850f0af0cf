import AgentPOSIX

/// One-line log messages on standard error (systemd's journal takes them from there).
/// Never pass a token: log its fingerprint.
public enum Log {
    // `nonisolated(unsafe)`: nothing in the package writes either after start-up
    // (`prefix` is never written; `enabled` is for a program embedding the agent, to set
    // once before it starts any thread), so every later access is a read and no two
    // threads race on them.
    nonisolated(unsafe) public static var enabled = true
    nonisolated(unsafe) static var prefix = "claude-agentd[\(ProcessControl.currentPID)]: "

    public static func info(_ message: String) {
        guard enabled else { return }
        try? FileDescriptor.standardError.writeAll(Array((prefix + message + "\n").utf8))
    }
}
