import CAgentShim
import Glibc

extension ProcessControl {
    /// Raises the soft limit on open descriptors to `wanted`, or as far as the hard limit
    /// allows, and returns the soft limit now in force (nil if it cannot be read). Login sessions often start with a
    /// soft limit of 1024, too few for an agent that a thousand clients ask at once.
    /// The corresponding C function is `setrlimit(RLIMIT_NOFILE)`.
    @discardableResult
    public static func raiseOpenFileLimit(to wanted: Int) -> Int? {
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        let target = min(rlim_t(wanted), limit.rlim_max)
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }
}

extension ProcessControl {
    /// Closes every descriptor from `low` up except those in `keeping`: the descriptors a
    /// process inherited without either side meaning it (a parent's that were not
    /// close-on-exec). The corresponding C function is `close_range` (Linux 5.9), called
    /// once for each run of descriptors between the kept ones.
    /// - Throws: `Errno` when a `close_range` fails (`ENOSYS` on a kernel before 5.9); the
    ///   runs before it are closed.
    public static func closeDescriptors(from low: Int32, keeping: [Int32] = []) throws(Errno) {
        // In UInt32, as close_range takes them: kept + 1 cannot overflow (kept <= Int32.max).
        var first = UInt32(clamping: low)
        for kept in Set(keeping).compactMap(UInt32.init(exactly:)).sorted() where kept >= first {
            if kept > first {
                _ = try syscall("close_range(\(first), \(kept - 1))") { cagent_close_range(first, kept - 1) }
            }
            first = kept + 1
        }
        _ = try syscall("close_range(\(first), ~0)") { cagent_close_range(first, UInt32.max) }
    }

    /// The descriptors this process has open, from `/proc/self/fd` (without the one the
    /// listing itself used), in no particular order.
    /// - Throws: `Errno` when `/proc/self/fd` cannot be read (no /proc mounted).
    public static func openDescriptors() throws(Errno) -> [Int32] {
        try FileSystem.listDirectory("/proc/self/fd").compactMap { name in
            // The listing's own descriptor is closed by now: its link is gone.
            guard let fd = Int32(name), (try? FileSystem.readLink("/proc/self/fd/\(fd)")) != nil else { return nil }
            return fd
        }
    }

    /// The descriptor a path names when it is one of this process's open descriptors
    /// (`/dev/fd/N`, `/proc/self/fd/N`, as a shell's `<(command)` gives), else nil: a
    /// file a caller passes by descriptor, which must stay open.
    public static func descriptor(namedBy path: String) -> Int32? {
        for prefix in ["/dev/fd/", "/proc/self/fd/", "/proc/\(currentPID)/fd/"] where path.hasPrefix(prefix) {
            return Int32(path.dropFirst(prefix.count))
        }
        return nil
    }
}
