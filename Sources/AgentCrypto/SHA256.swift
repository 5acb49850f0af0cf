// SHA-256 as specified in FIPS 180-4, written here so the package needs no
// crypto dependency. Only used for hashing (PKCE challenges, fingerprints);
// nothing here is secret-dependent in its control flow.

/// Incremental SHA-256 (FIPS 180-4).
///
/// ```
/// var h = SHA256()
/// h.update(part1)
/// h.update(part2)
/// let digest = h.finalize()   // 32 bytes
/// ```
///
/// `finalize()` is `consuming`: it takes the hasher by value and pads its own
/// copy, so a hasher is finished exactly once per value. Because `SHA256` is
/// copyable you may copy it first (`let snapshot = h`) to obtain the digest of
/// a prefix and keep updating the original.
public struct SHA256: Sendable {
    public static let digestLength = 32
    static let blockLength = 64

    // Chaining state H0...H7.
    private var h0: UInt32 = 0x6a09_e667
    private var h1: UInt32 = 0xbb67_ae85
    private var h2: UInt32 = 0x3c6e_f372
    private var h3: UInt32 = 0xa54f_f53a
    private var h4: UInt32 = 0x510e_527f
    private var h5: UInt32 = 0x9b05_688c
    private var h6: UInt32 = 0x1f83_d9ab
    private var h7: UInt32 = 0x5be0_cd19

    /// A partial block; always exactly 64 bytes long, of which the first
    /// `bufferCount` are pending input. Never grows.
    private var buffer = [UInt8](repeating: 0, count: SHA256.blockLength)
    private var bufferCount = 0
    /// Total message length in bytes so far.
    private var totalLength: UInt64 = 0

    public init() {}

    // MARK: Feeding input

    /// Appends `bytes` to the message. Contiguous inputs (`[UInt8]`,
    /// `ArraySlice`, `String.UTF8View` when native, ...) take a block-wise
    /// fast path; other sequences are copied byte by byte into the block
    /// buffer.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buf in
            self.update(UnsafeRawBufferPointer(buf))
        }
        if handled != nil { return }
        for byte in bytes {
            buffer[bufferCount] = byte
            bufferCount += 1
            totalLength &+= 1
            if bufferCount == SHA256.blockLength {
                flushBuffer()
            }
        }
    }

    /// Appends `bytes` to the message.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.update($0) }
    }

    /// Appends the bytes in `raw` to the message.
    public mutating func update(_ raw: UnsafeRawBufferPointer) {
        var offset = 0
        let count = raw.count
        guard count > 0 else { return }
        totalLength &+= UInt64(count)

        // Top up a partially filled buffer first.
        if bufferCount > 0 {
            let take = min(SHA256.blockLength - bufferCount, count)
            let start = bufferCount
            buffer.withUnsafeMutableBytes { dst in
                UnsafeMutableRawBufferPointer(rebasing: dst[start ..< start + take])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0 ..< take]))
            }
            bufferCount += take
            offset = take
            if bufferCount < SHA256.blockLength { return }
            flushBuffer()
        }

        // Whole blocks straight from the input.
        while count - offset >= SHA256.blockLength {
            compress(UnsafeRawBufferPointer(rebasing: raw[offset ..< offset + SHA256.blockLength]))
            offset += SHA256.blockLength
        }

        // Keep the tail.
        let rest = count - offset
        if rest > 0 {
            buffer.withUnsafeMutableBytes { dst in
                UnsafeMutableRawBufferPointer(rebasing: dst[0 ..< rest])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset ..< count]))
            }
            bufferCount = rest
        }
    }

    // MARK: Finishing

    /// Pads the message and returns the 32-byte digest. See the type
    /// documentation for why this is `consuming`.
    public consuming func finalize() -> [UInt8] {
        let bitLength = totalLength &* 8
        // 0x80, then zeros up to 56 mod 64, then the 64-bit big-endian length.
        buffer[bufferCount] = 0x80
        bufferCount += 1
        if bufferCount > 56 {
            for i in bufferCount ..< SHA256.blockLength { buffer[i] = 0 }
            bufferCount = SHA256.blockLength
            flushBuffer()
        }
        for i in bufferCount ..< 56 { buffer[i] = 0 }
        for i in 0 ..< 8 {
            buffer[56 + i] = UInt8(truncatingIfNeeded: bitLength >> (56 - 8 * UInt64(i)))
        }
        bufferCount = SHA256.blockLength
        flushBuffer()

        var out = [UInt8](repeating: 0, count: SHA256.digestLength)
        for (i, word) in [h0, h1, h2, h3, h4, h5, h6, h7].enumerated() {
            out[4 * i] = UInt8(truncatingIfNeeded: word >> 24)
            out[4 * i + 1] = UInt8(truncatingIfNeeded: word >> 16)
            out[4 * i + 2] = UInt8(truncatingIfNeeded: word >> 8)
            out[4 * i + 3] = UInt8(truncatingIfNeeded: word)
        }
        return out
    }

    /// One-shot digest of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var h = SHA256()
        h.update(bytes)
        return h.finalize()
    }

    /// One-shot digest of the UTF-8 encoding of `text`.
    public static func hash(_ text: String) -> [UInt8] {
        var h = SHA256()
        var copy = text
        copy.withUTF8 { h.update(UnsafeRawBufferPointer($0)) }
        return h.finalize()
    }

    // MARK: Compression

    private mutating func flushBuffer() {
        // Copy the array reference out so `compress` may mutate `self`
        // without an exclusivity conflict on `buffer`.
        let block = buffer
        block.withUnsafeBytes { compress($0) }
        bufferCount = 0
    }

    /// Processes one 64-byte block (FIPS 180-4 §6.2.2).
    private mutating func compress(_ block: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for t in 0 ..< 16 {
                w[t] = UInt32(block[4 * t]) << 24 | UInt32(block[4 * t + 1]) << 16
                    | UInt32(block[4 * t + 2]) << 8 | UInt32(block[4 * t + 3])
            }
            for t in 16 ..< 64 {
                let x = w[t - 15], y = w[t - 2]
                let s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3)
                let s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }

            var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
            SHA256.k.withUnsafeBufferPointer { k in
                for t in 0 ..< 64 {
                    let bigS1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ bigS1 &+ ch &+ k[t] &+ w[t]
                    let bigS0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = bigS0 &+ maj
                    h = g; g = f; f = e
                    e = d &+ t1
                    d = c; c = b; b = a
                    a = t1 &+ t2
                }
            }
            h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d
            h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= h
        }
    }

    /// Round constants (FIPS 180-4 §4.2.2).
    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]
}

@inline(__always)
private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
    (x >> n) | (x << (32 - n))
}
