import AgentPOSIX
import Dispatch

/// The lock Claude Code itself takes around refreshing the tokens in its
/// `.credentials.json`, so that the agent and Claude Code never refresh the same token at
/// once.
///
/// Claude Code takes npm's proper-lockfile locks, which are directories: the primary
/// `<credentials dir>/.oauth_refresh.lock` and the older `<credentials dir>.lock`
/// (`~/.claude.lock`), with a stale limit of 60 s and the holder touching them every 5 s
/// (as read from its bundle and described in public reports of its behaviour, e.g.
/// anthropics/claude-code issues 95236 and 95739; it is not a documented interface). The
/// agent takes both, in that order, touches them on the same schedule while it holds
/// them, and removes them when done. A lock it cannot get in time is logged and skipped:
/// the re-read of the file after an `invalid_grant` is then the safety net.
final class ClaudeCodeRefreshLock: @unchecked Sendable {
    // `locks` is set once in init; the timer only reads it and is cancelled in release().
    private let locks: [DirectoryLock]
    private let timer: DispatchSourceTimer

    /// proper-lockfile's `stale` as Claude Code passes it: a lock untouched this long is
    /// taken as abandoned by a process that died holding it.
    static let staleMilliseconds: Int64 = 60_000
    /// proper-lockfile's `update` as Claude Code passes it: how often a held lock's time is
    /// renewed, well inside `staleMilliseconds` so no waiter takes it as abandoned.
    static let touchMilliseconds: Int64 = 5_000
    /// How long to wait for a Claude Code refresh in progress (one round trip to the provider).
    static let waitMilliseconds: Int64 = 15_000

    /// The name Claude Code gives its credentials file; only such a file gets these locks.
    static let credentialsFileName = ".credentials.json"

    /// Takes Claude Code's locks for the credentials file at `path`; nil when it is not
    /// Claude Code's file.
    static func acquire(for path: String) -> ClaudeCodeRefreshLock? {
        guard FileSystem.baseName(path) == credentialsFileName else { return nil }
        let directory = FileSystem.directoryName(path)
        let real = (try? FileSystem.resolvingSymbolicLinks(directory)) ?? directory
        var locks: [DirectoryLock] = []
        for lockPath in [directory + "/.oauth_refresh.lock", real + ".lock"] {
            do throws(Errno) {
                if let lock = try DirectoryLock.acquire(lockPath, staleMilliseconds: staleMilliseconds,
                                                        timeoutMilliseconds: waitMilliseconds) {
                    locks.append(lock)
                } else {
                    Log.info("\(lockPath) stayed held for \(waitMilliseconds / 1000) s (Claude Code refreshing?); going on without it")
                }
            } catch {
                Log.info("cannot take \(lockPath) (\(error)); going on without it")
            }
        }
        return ClaudeCodeRefreshLock(locks: locks)
    }

    private init(locks: [DirectoryLock]) {
        self.locks = locks
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        let touch = DispatchTimeInterval.milliseconds(Int(clamping: Self.touchMilliseconds))
        timer.schedule(deadline: .now() + touch, repeating: touch)
        timer.setEventHandler { [locks] in for lock in locks { lock.touch() } }
        timer.resume()
    }

    /// Stops touching the locks and removes them, last taken first.
    func release() {
        timer.cancel()
        for lock in locks.reversed() { lock.release() }
    }
}
