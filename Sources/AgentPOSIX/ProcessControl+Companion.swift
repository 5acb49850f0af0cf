extension ProcessControl {
    /// The package's program `name` beside the running executable (they are installed
    /// together), else the first executable `name` on `PATH` (`/usr/local/bin:/usr/bin`
    /// when unset); nil when there is none. The one lookup for claude-agentd,
    /// claude-agent-fetch, claude-agent-bridge and claude-agent-endpoint.
    public static func companionExecutable(_ name: String) -> String? {
        if let executable = executablePath() {
            let sibling = FileSystem.directoryName(executable) + "/" + name
            if FileSystem.isExecutable(sibling) { return sibling }
        }
        for directory in (environment("PATH") ?? "/usr/local/bin:/usr/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileSystem.isExecutable(candidate) { return candidate }
        }
        return nil
    }
}
