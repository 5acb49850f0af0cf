import CAgentShim

extension ProcessControl {
    /// Makes this process the reaper of its orphaned descendants: when a child exits, its
    /// own children become ours to wait for. The benchmark uses it to measure a command's
    /// peak memory through a small intermediate process, because a child spawned straight
    /// from a large process inherits that process's peak in its `ru_maxrss`.
    /// The corresponding C function is `prctl(PR_SET_CHILD_SUBREAPER)`.
    public static func becomeChildSubreaper() throws(Errno) {
        _ = try syscall("prctl(PR_SET_CHILD_SUBREAPER)") { cagent_set_child_subreaper() }
    }
}
