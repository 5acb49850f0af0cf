/// The sizes the POSIX wrappers use when their caller gives none, and that the targets
/// above share, in one place (as ssh-agent keeps its limits at the top of one file).
public enum POSIXLimits {
    /// `listen(2)`'s backlog: connections the kernel queues before we accept them. 128
    /// was Linux's `SOMAXCONN` until 5.4, and the kernel caps a larger one at its own.
    public static let listenBacklog: Int32 = 128
    /// Bytes asked of one `read(2)` when reading a stream to its end or a burst of
    /// frames: the socket buffer's default size, so one call usually empties it.
    public static let readChunkBytes = 64 * 1024
    /// `FileSystem.readFile`'s default limit: the files read whole here (credentials,
    /// configuration, `/proc` entries, secrets) are a few KiB.
    public static let maxFileBytes = 1 << 20
    /// `Terminal.readLine`'s default limit: a pasted code, URL or passphrase.
    public static let maxLineBytes = 4096
    /// Bytes of answers a client may leave unread in its connection's `OutputBuffer` before
    /// the server stops reading its (pipelined) requests: a client that never reads cannot
    /// make the server hold answers without end. The agent and the HTTP server share it.
    public static let maxPendingOutputBytes = 1 << 20
    /// Bytes asked of one `read(2)` of a wake-up pipe (a poll loop's own pipe, whose bytes
    /// only say "look again"): many pending wake-ups go in one call, and any left over
    /// only wake the next turn, which finds the same work.
    public static let wakeDrainBytes = 256
    /// Random bytes in each secret the package makes (an OAuth `state`, a PKCE verifier,
    /// the bridge secret): 256 bits, the 32 octets RFC 7636 §7.1 recommends for a verifier
    /// and well past RFC 6749 §10.10's 2^-128 chance of a guess.
    public static let secretRandomBytes = 32
}
