import Glibc

/// What replacing a secret-holding file safely takes: a private temporary file, a flush to
/// disk, a rename and a flush of the directory, so that a crash at any moment leaves either
/// the old content or the new one, never a torn file, and nobody else can read it even
/// for an instant.
extension FileSystem {
    /// Creates a new file that must not exist yet (`O_CREAT | O_EXCL`), without following a
    /// symbolic link planted at `path`, opened for writing. The permissions are set to
    /// exactly `mode` with `fchmod` afterwards, so a strict umask cannot leave it unwritable
    /// and a loose one cannot widen it. The C functions are `open` and `fchmod`.
    public static func createExclusive(_ path: String, mode: mode_t) throws(Errno) -> FileDescriptor {
        let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode)
        do throws(Errno) {
            try fd.setPermissions(mode)
        } catch {
            fd.close()
            try? removeFile(path)
            throw error
        }
        return fd
    }

    /// Flushes a directory's entries (a rename, a new file) to stable storage. File systems
    /// that cannot sync a directory (`EINVAL`) are taken at their word: there is nothing
    /// more to do. The C functions are `open(O_DIRECTORY)` and `fsync`.
    public static func syncDirectory(_ path: String) throws(Errno) {
        let fd = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
        defer { fd.close() }
        do throws(Errno) {
            try fd.sync()
        } catch let error where error.code == EINVAL {
            return
        }
    }

    /// The absolute path with every symbolic link resolved (`realpath`). Rewriting a file
    /// through its resolved path keeps a link that points at it (dotfile managers make such
    /// links) instead of replacing the link with a regular file.
    public static func resolvingSymbolicLinks(_ path: String) throws(Errno) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        _ = try syscall("realpath \(path)") { realpath(path, &buffer) == nil ? Int32(-1) : Int32(0) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Replaces `path` with `bytes` atomically: a temporary file created 0600 with `O_EXCL`
    /// under a random name in the same directory (a rename across file systems would not be
    /// atomic), written, fsynced, renamed over `path`, then the directory fsynced. The new
    /// file is 0600 whatever the old one was, since these files hold secrets. On failure
    /// the temporary file is removed and `path` is left as it was.
    public static func replaceAtomically(_ path: String, with bytes: [UInt8]) throws(Errno) {
        let directory = directoryName(path)
        let base = path.split(separator: "/").last.map(String.init) ?? "file"
        let suffix = try RandomBytes.generate(6).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
        let temporary = "\(directory)/.\(base).\(suffix).tmp"
        let fd = try createExclusive(temporary, mode: 0o600)
        do throws(Errno) {
            try fd.writeAll(bytes)
            try fd.sync()
            fd.close()
        } catch {
            fd.close()
            try? removeFile(temporary)
            throw error
        }
        do throws(Errno) {
            try rename(temporary, to: path)
        } catch {
            try? removeFile(temporary)
            throw error
        }
        try syncDirectory(directory)
    }
}

extension FileDescriptor {
    /// Sets the permission bits of the open file. The C function is `fchmod`.
    public func setPermissions(_ mode: mode_t) throws(Errno) {
        _ = try syscall("fchmod") { fchmod(rawValue, mode) }
    }
}
