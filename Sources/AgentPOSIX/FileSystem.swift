import CAgentShim
import Glibc

/// The few file-system calls the agent needs, each wrapped once.
public enum FileSystem {
    /// What `lstat` tells about a path.
    public struct Status: Sendable {
        public let mode: UInt32
        public let ownerUID: UInt32
        public var permissions: UInt32 { mode & 0o7777 }
        public var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
        public var isSocket: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFSOCK) }
        public var isRegularFile: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
    }

    /// `lstat(2)`: links are not followed, so a planted symlink is seen as one.
    public static func status(_ path: String) throws(Errno) -> Status {
        var st = stat()
        _ = try syscall("lstat \(path)") { lstat(path, &st) }
        return Status(mode: st.st_mode, ownerUID: st.st_uid)
    }

    /// `mkdir(2)` with the mode given to the call itself (no chmod window).
    public static func makeDirectory(_ path: String, mode: mode_t) throws(Errno) {
        _ = try syscall("mkdir \(path)") { mkdir(path, mode) }
    }

    public static func removeFile(_ path: String) throws(Errno) {
        _ = try syscall("unlink \(path)") { unlink(path) }
    }

    public static func removeDirectory(_ path: String) throws(Errno) {
        _ = try syscall("rmdir \(path)") { rmdir(path) }
    }

    public static func rename(_ from: String, to: String) throws(Errno) {
        _ = try syscall("rename \(from)") { Glibc.rename(from, to) }
    }

    /// Renames `from` to `to` unless `to` exists, atomically: throws `EEXIST` then. The
    /// corresponding C function is `renameat2` with `RENAME_NOREPLACE`.
    public static func renameWithoutReplacing(_ from: String, to: String) throws(Errno) {
        _ = try syscall("rename \(from) to \(to)") { cagent_rename_noreplace(from, to) }
    }

    /// The whole content of a regular file, refusing anything larger than `limit` bytes.
    public static func readFile(_ path: String, limit: Int = POSIXLimits.maxFileBytes) throws(Errno) -> [UInt8] {
        let fd = try FileDescriptor.open(path, O_RDONLY)
        defer { fd.close() }
        var content: [UInt8] = []
        while true {
            let chunk = try fd.read(upTo: POSIXLimits.readChunkBytes)
            if chunk.isEmpty { return content }
            content += chunk
            if content.count > limit { throw Errno(EFBIG, operation: "read \(path)") }
        }
    }

    /// The target of a symbolic link (`readlink`), e.g. `/proc/<pid>/exe`.
    public static func readLink(_ path: String) throws(Errno) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = try syscall("readlink \(path)") { readlink(path, &buffer, buffer.count) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The names in a directory, without "." and "..". The C functions are `opendir`,
    /// `readdir` and `closedir`.
    public static func listDirectory(_ path: String) throws(Errno) -> [String] {
        let directory = try syscallPointer("opendir \(path)") { opendir(path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Whether this process may execute `path`. The corresponding C function is `access`
    /// with `X_OK`.
    public static func isExecutable(_ path: String) -> Bool {
        access(path, X_OK) == 0
    }

    /// The last component of `path` (all of it when there is no slash).
    public static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// The directory part of `path` ("." when there is none).
    public static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
