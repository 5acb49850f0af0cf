import CAgentShim
import Glibc

/// Clearing secrets from memory we own.
public enum Memory {
    /// Overwrites `bytes` with zeros, keeping its count, so a request or answer that held
    /// a token does not linger in freed memory. Copies made elsewhere (strings, the
    /// kernel's buffers) are out of reach; this clears the ones that are not.
    /// The corresponding C function is `explicit_bzero`, which the compiler may not drop
    /// as a dead store the way it may drop a plain loop.
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { explicit_bzero(base, raw.count) }
        }
    }

    /// Makes every allocation of at least `bytes` a mapping of its own, returned to the
    /// system when freed. glibc otherwise raises that threshold after the first large free,
    /// and serves later large buffers from its heap, where freed ones stay part of the
    /// process: a burst of clients each sending part of a 256 KiB frame would leave the
    /// agent that large long after they are gone. The corresponding C function is
    /// `mallopt(M_MMAP_THRESHOLD)` (through CAgentShim), which also turns glibc's moving
    /// threshold off.
    public static func returnLargeBuffersToTheSystem(atLeast bytes: Int) {
        _ = cagent_set_mmap_threshold(Int32(clamping: bytes))
    }
}
