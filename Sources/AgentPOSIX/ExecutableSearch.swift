/// Finding a program to run: "beside me, else on PATH", written once for the CLI (the
/// agent, the endpoint, xdg-open, `exec`), the agent (claude-agent-fetch) and the benchmark.
extension FileSystem {
    /// The search path used when `PATH` is unset or empty (glibc's `execvp` default, with
    /// `/usr/local/bin` first as Debian's login shells set it).
    public static let defaultSearchPath = "/usr/local/bin:/usr/bin:/bin"

    /// The paths to try for `name`, in order: `name` itself when it contains a slash, else
    /// `name` in each directory of `searchPath` (`defaultSearchPath` when nil or empty).
    /// An empty entry means the current directory, as POSIX (XBD 8.3) and `execvp` have it,
    /// when `emptyEntryIsCurrentDirectory`; otherwise it is skipped.
    public static func candidates(for name: String, searchPath: String?, emptyEntryIsCurrentDirectory: Bool) -> [String] {
        if name.contains("/") { return [name] }
        let path = searchPath.flatMap { $0.isEmpty ? nil : $0 } ?? defaultSearchPath
        return path.split(separator: ":", omittingEmptySubsequences: false).compactMap { directory in
            if directory.isEmpty { return emptyEntryIsCurrentDirectory ? name : nil }
            return "\(directory)/\(name)"
        }
    }

    /// The first executable `name` on this process's `PATH`; nil when there is none. Empty
    /// entries are skipped: a program of ours is never taken from the current directory.
    public static func findOnPath(_ name: String) -> String? {
        candidates(for: name, searchPath: ProcessControl.environment("PATH"), emptyEntryIsCurrentDirectory: false)
            .first(where: isExecutable)
    }

    /// `name` beside the running executable (the package's programs are installed
    /// together), else the first executable one on `PATH`; nil when there is none.
    public static func findBesideSelfOrOnPath(_ name: String) -> String? {
        if let executable = ProcessControl.executablePath() {
            let sibling = directoryName(executable) + "/" + name
            if isExecutable(sibling) { return sibling }
        }
        return findOnPath(name)
    }
}
