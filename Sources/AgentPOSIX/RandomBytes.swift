import CAgentShim
import Glibc

/// Random bytes from the kernel's CSPRNG. The corresponding C function is `getrandom`.
public enum RandomBytes {
    public static func generate(_ count: Int) throws(Errno) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = try syscall("getrandom") {
                bytes.withUnsafeMutableBytes { raw in
                    let rest = UnsafeMutableRawBufferPointer(rebasing: raw[filled...])
                    return cagent_getrandom(rest.baseAddress, rest.count)
                }
            }
            filled += n
        }
        return bytes
    }

    /// A random unsigned integer below `bound`, without modulo bias.
    public static func uniform(below bound: UInt64) throws(Errno) -> UInt64 {
        precondition(bound > 0)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let bytes = try generate(8)
            let value = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if value < limit { return value % bound }
        }
    }
}
