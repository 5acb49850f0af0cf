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
