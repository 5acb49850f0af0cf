import Glibc

extension FileSystem {
    /// Replaces `path` atomically: a new file created 0600 with `O_EXCL` and a random name
    /// in the same directory, written, fsynced, renamed over `path`, and the directory
    /// fsynced, so a crash leaves either the old file or the new one, never a torn one,
    /// and the secret is never readable by others even for a moment.
    public static func replaceAtomically(_ path: String, with bytes: [UInt8]) throws(Errno) {
        let directory = directoryName(path)
        let suffix = try RandomBytes.generate(6).map { String($0, radix: 16) }.joined()
        let temporary = "\(directory)/.\(path.split(separator: "/").last ?? "file").\(suffix).tmp"
        let fd = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
        do throws(Errno) {
            try fd.writeAll(bytes)
            try fd.sync()
            fd.close()
            try rename(temporary, to: path)
        } catch {
            fd.close()
            try? removeFile(temporary)
            throw error
        }
        let directoryFD = try FileDescriptor.open(directory, O_RDONLY | O_DIRECTORY)
        defer { directoryFD.close() }
        try directoryFD.sync()
    }
}
