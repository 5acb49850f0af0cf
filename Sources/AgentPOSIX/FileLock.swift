import Glibc

/// An advisory exclusive lock on a file (`flock(2)`), held until `release()`.
///
/// Advisory: it keeps out only the processes that take the same lock. The kernel drops
/// it when the descriptor closes, so a crashed holder never leaves it stale (unlike a
/// lock directory). Locks on one file taken through two open descriptions exclude each
/// other even within one process.
public struct FileLock: Sendable {
    /// How often a held lock is tried again while waiting for it (flock has no timed wait).
    public static let retryIntervalMilliseconds: Int64 = 20

    public let path: String
    private let fd: FileDescriptor

    /// Opens (creating it 0600 if missing, without following a symbolic link planted
    /// there) and locks the file at `path`, waiting while another holder has it, at most
    /// `timeoutMilliseconds`. Returns nil when the lock stayed held that long. The C
    /// functions are `open` and `flock(LOCK_EX | LOCK_NB)`, polled every 20 ms, since a
    /// blocking `flock` cannot be given a deadline.
    public static func acquire(_ path: String, timeoutMilliseconds: Int64) throws(Errno) -> FileLock? {
        let fd = try FileDescriptor.open(path, O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600)
        let deadline = Clock.monotonicMilliseconds() + max(0, timeoutMilliseconds)
        while true {
            do throws(Errno) {
                _ = try syscall("flock \(path)") { flock(fd.rawValue, LOCK_EX | LOCK_NB) }
                return FileLock(path: path, fd: fd)
            } catch where error == .wouldBlock {
                if Clock.monotonicMilliseconds() >= deadline {
                    fd.close()
                    return nil
                }
                Clock.sleep(milliseconds: Self.retryIntervalMilliseconds)
            } catch {
                fd.close()
                throw error
            }
        }
    }

    /// Unlocks by closing the descriptor.
    public func release() {
        fd.close()
    }
}

/// What identifies a file's content cheaply: where it is (device and inode) and when and
/// how it last changed. Two equal stamps almost surely mean the same bytes, so a file can
/// be parsed again only when its stamp moves.
public struct FileStamp: Equatable, Sendable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64
    public let modifiedSeconds: Int64
    public let modifiedNanoseconds: Int64
    public let changedSeconds: Int64
    public let changedNanoseconds: Int64
}

extension FileSystem {
    /// The stamp of the file at `path`; with `followingLinks` the file a symbolic link
    /// points to, else the link itself. The C function is `fstatat` (as `stat`, or `lstat`).
    public static func stamp(_ path: String, followingLinks: Bool = true) throws(Errno) -> FileStamp {
        var st = stat()
        let flags = followingLinks ? 0 : AT_SYMLINK_NOFOLLOW
        _ = try syscall("stat \(path)") { fstatat(AT_FDCWD, path, &st, flags) }
        return FileStamp(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                         modifiedSeconds: Int64(st.st_mtim.tv_sec), modifiedNanoseconds: Int64(st.st_mtim.tv_nsec),
                         changedSeconds: Int64(st.st_ctim.tv_sec), changedNanoseconds: Int64(st.st_ctim.tv_nsec))
    }
}
