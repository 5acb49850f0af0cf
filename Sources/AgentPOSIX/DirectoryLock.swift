import Glibc

/// A lock held by creating a directory, as npm's `proper-lockfile` takes it (and so as
/// Claude Code takes its `.oauth_refresh.lock`): `mkdir` succeeds for one process only;
/// the holder touches the directory's modification time now and then, and a lock whose
/// time is older than the stale limit is taken to be left by a crashed holder and
/// removed. Unlike `flock`, it survives its holder's crash until it turns stale.
public struct DirectoryLock: Sendable {
    /// How often a held lock directory is tried again while waiting for it.
    public static let retryIntervalMilliseconds: Int64 = 100

    public let path: String

    /// Creates the directory at `path`, waiting at most `timeoutMilliseconds` while a
    /// live holder has it, and removing it first when its modification time is more than
    /// `staleMilliseconds` old (a time in the future is not stale, as proper-lockfile
    /// sees it). Returns nil when it stayed held. The C functions are `mkdir`,
    /// `fstatat` and `rmdir`.
    public static func acquire(_ path: String, staleMilliseconds: Int64, timeoutMilliseconds: Int64) throws(Errno) -> DirectoryLock? {
        let deadline = Clock.monotonicMilliseconds() + max(0, timeoutMilliseconds)
        while true {
            do throws(Errno) {
                try FileSystem.makeDirectory(path, mode: 0o700)
                return DirectoryLock(path: path)
            } catch where error == .fileExists {
                if let stamp = try? FileSystem.stamp(path, followingLinks: false) {
                    let modified = stamp.modifiedSeconds * 1000 + stamp.modifiedNanoseconds / 1_000_000
                    if Clock.unixMilliseconds() - modified > staleMilliseconds {
                        try? FileSystem.removeDirectory(path)
                        continue
                    }
                }
                if Clock.monotonicMilliseconds() >= deadline { return nil }
                Clock.sleep(milliseconds: Self.retryIntervalMilliseconds)
            }
        }
    }

    /// Sets the directory's modification time to now, so other holders' stale checks
    /// see it alive. The C function is `utimensat`.
    public func touch() {
        _ = try? syscall("utimensat \(path)") { utimensat(AT_FDCWD, path, nil, 0) }
    }

    /// Removes the directory.
    public func release() {
        try? FileSystem.removeDirectory(path)
    }
}
