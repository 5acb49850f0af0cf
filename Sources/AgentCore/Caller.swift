import AgentPOSIX

/// Who is at the other end of a connection, beyond SO_PEERCRED's numbers: read from
/// `/proc/<pid>/` at the moment a request is made (the process may be gone later).
enum Caller {
    static func executable(pid: Int32) -> String? {
        try? FileSystem.readLink("/proc/\(pid)/exe")
    }

    static func executableName(pid: Int32) -> String? {
        executable(pid: pid).map { path in path.split(separator: "/").last.map(String.init) ?? path }
    }

    /// The command line with its NUL separators as spaces, at most
    /// `Limits.maxCallerCommandLineBytes`.
    static func commandLine(pid: Int32) -> String? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/cmdline", limit: Limits.maxCallerFileBytes), !bytes.isEmpty else {
            return nil
        }
        let shown = bytes.prefix(Limits.maxCallerCommandLineBytes).map { $0 == 0 ? UInt8(ascii: " ") : $0 }
        let text = String(decoding: shown, as: UTF8.self)
        return text.hasSuffix(" ") ? String(text.dropLast()) : text
    }

    /// The command line's arguments after `argv[0]`, split at its NULs (at most
    /// `Limits.maxCallerFileBytes` read).
    static func arguments(pid: Int32) -> [String]? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/cmdline", limit: Limits.maxCallerFileBytes), !bytes.isEmpty else {
            return nil
        }
        let words = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        // The command line ends with a NUL, which leaves one empty word at the end.
        return Array(words.dropFirst().dropLast(words.last == "" ? 1 : 0))
    }

    static func hostname() -> String { ProcessControl.hostname() }

    /// The real uid of a process, from the `Uid:` line of `/proc/<pid>/status`.
    static func uid(pid: Int32) -> UInt32? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/status", limit: Limits.maxCallerFileBytes) else { return nil }
        let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("Uid:") }
        return line?.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { UInt32($0) }
    }
}
