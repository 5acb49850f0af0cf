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
}
