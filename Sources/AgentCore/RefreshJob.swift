import AgentPOSIX
import AgentProtocol
import OAuth

/// A credentials file an account is tied to, as a refresh job sees it.
struct TiedFile: Sendable {
    let path: String
    /// Write rotated tokens back (`--persist`).
    let persist: Bool
    /// The stamp when the agent last read or wrote it.
    let knownStamp: FileStamp?

    /// The lock beside the file that cooperating writers take around read-refresh-write:
    /// `<directory>/.<name>.lock`. A sibling rather than the file itself, because the file
    /// is replaced by rename on every write and a lock on a replaced inode locks nothing.
    var lockPath: String {
        FileSystem.directoryName(path) + "/." + FileSystem.baseName(path) + ".lock"
    }
}

/// How a refresh job ended well.
enum RefreshOutcome: Sendable {
    /// The provider granted new tokens; with a persisted file, they were written back
    /// (`fileStamp` is the file's stamp after the write; `writeError` says why not).
    case granted(AccessTokenResponse, fileStamp: FileStamp?, writeError: String?)
    /// The tied file held newer tokens than ours (another tool rotated them): taken
    /// instead of refreshing, or instead of failing after `invalid_grant`.
    case adopted(StoredCredentials, fileStamp: FileStamp)
}

/// One refresh, run on a worker thread: everything it needs is copied in, so it touches
/// no agent state.
///
/// For an account tied to a credentials file, the file is the truth shared with other
/// tools (Claude Code rewrites `~/.claude/.credentials.json` when it refreshes). The job
/// takes the file's sibling lock (`flock`, so other claude-agents and cooperating tools
/// never refresh the same token at once), looks at the file (a `stat`, and a parse only
/// when it changed) and adopts a newer pair found there instead of refreshing; else it
/// refreshes, writes the new pair back while still holding the lock, and releases it.
/// For Claude Code's own `.credentials.json` it also takes the lock Claude Code takes
/// (`ClaudeCodeRefreshLock`). After an `invalid_grant` it looks at the file once more: a
/// writer that takes neither lock can still refresh at the same moment, and the re-read
/// then recovers the pair it wrote.
struct RefreshJob: Sendable {
    let refreshToken: String
    let accessToken: String
    let scopes: [String]
    /// The held refresh token's expiry (Unix seconds), written back when it is kept.
    var refreshTokenExpiresAt: Int64? = nil
    let endpoint: TokenEndpointClient
    let file: TiedFile?
    /// The agent's clock: the grant's `expires_in` counts from its wall-clock time.
    var clock: any AgentClock = SystemClock()

    /// How long to wait for another holder of the file's lock (a refresh elsewhere takes
    /// one round trip to the provider).
    static let lockTimeoutMilliseconds: Int64 = 45_000

    func run() -> Result<RefreshOutcome, OAuthError> {
        var lock: FileLock?
        if let file {
            do throws(Errno) {
                lock = try FileLock.acquire(file.lockPath, timeoutMilliseconds: Self.lockTimeoutMilliseconds)
                if lock == nil { Log.info("\(file.lockPath) stayed locked for \(Self.lockTimeoutMilliseconds / 1000) s; refreshing without it") }
            } catch {
                Log.info("cannot lock \(file.lockPath) (\(error)); refreshing without it")
            }
        }
        defer { lock?.release() }
        let claudeCode = file.flatMap { ClaudeCodeRefreshLock.acquire(for: $0.path) }
        defer { claudeCode?.release() }
        if let file, let newer = newerCredentials(in: file) { return .success(.adopted(newer.credentials, fileStamp: newer.stamp)) }
        let grant: AccessTokenResponse
        do throws(OAuthError) {
            grant = try endpoint.refresh(refreshToken: refreshToken, scopes: nil, now: { [clock] in clock.unixSeconds() })
        } catch {
            if error.kind == .invalidGrant, let file, let newer = newerCredentials(in: file) {
                return .success(.adopted(newer.credentials, fileStamp: newer.stamp))
            }
            return .failure(error)
        }
        guard let file, file.persist else { return .success(.granted(grant, fileStamp: nil, writeError: nil)) }
        // A kept refresh token keeps its expiry; a new one has the answer's (or none).
        let credentials = StoredCredentials(accessToken: grant.accessToken, refreshToken: grant.refreshToken ?? refreshToken,
                                            expiresAt: grant.expiresAt, scopes: grant.scopes ?? scopes,
                                            refreshTokenExpiresAt: grant.refreshToken == nil ? refreshTokenExpiresAt : grant.refreshTokenExpiresAt)
        do throws(CredentialsFileError) {
            try CredentialsFile.update(path: file.path, with: credentials)
        } catch {
            return .success(.granted(grant, fileStamp: nil, writeError: error.description))
        }
        return .success(.granted(grant, fileStamp: try? FileSystem.stamp(file.path), writeError: nil))
    }

    /// The file's credentials when it changed since the agent last saw it and holds a
    /// pair other than ours; nil otherwise (unchanged, unreadable, or the same tokens).
    func newerCredentials(in file: TiedFile) -> (credentials: StoredCredentials, stamp: FileStamp)? {
        guard let stamp = try? FileSystem.stamp(file.path), stamp != file.knownStamp else { return nil }
        let read: CredentialsFile
        do throws(CredentialsFileError) {
            read = try CredentialsFile.read(path: file.path)
        } catch {
            Log.info("cannot read \(file.path) again: \(error.message)")
            return nil
        }
        let found = read.credentials
        // A pair without a refresh token would cost us ours: never adopted.
        guard let foundRefresh = found.refreshToken, foundRefresh != refreshToken || found.accessToken != accessToken else {
            return nil
        }
        return (found, stamp)
    }
}
