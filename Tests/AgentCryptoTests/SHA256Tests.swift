import AgentCrypto
import Testing

/// Deterministic test input: byte i is (7i + 3) mod 256.
func patternBytes(_ count: Int) -> [UInt8] {
    (0 ..< count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
}

@Suite("SHA-256 (FIPS 180-4)")
struct SHA256Tests {
    @Test("matches the NIST example vectors", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func nistVectors(input: String, expected: String) {
        #expect(Hex.encode(SHA256.hash(input)) == expected)
        #expect(Hex.encode(SHA256.hash(Array(input.utf8))) == expected)
    }

    // How fast is scripts/bench's business, not a unit test's.
    @Test("hashes a million 'a'")
    func millionA() {
        let digest = SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        #expect(Hex.encode(digest) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("a million 'a' fed in odd-sized chunks gives the same digest")
    func millionAChunked() {
        var h = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 999)
        var remaining = 1_000_000
        while remaining > 0 {
            let n = min(remaining, chunk.count)
            h.update(chunk[0 ..< n])
            remaining -= n
        }
        #expect(Hex.encode(h.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("pads correctly around the block boundary", arguments: [
        (55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"),
        (56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"),
        (63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"),
        (64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"),
        (65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"),
        (130, "4d5e47a2e8510a314576c238f6ff19d389d3ef3aaaca8b2e530263a5d15741da"),
    ])
    func boundaryLengths(length: Int, expected: String) {
        #expect(Hex.encode(SHA256.hash(patternBytes(length))) == expected)
    }

    @Test("incremental updates split at every offset equal the one-shot hash", arguments: 0 ... 130)
    func splitAtEveryOffset(split: Int) {
        let input = patternBytes(130)
        let expected = "4d5e47a2e8510a314576c238f6ff19d389d3ef3aaaca8b2e530263a5d15741da"

        var contiguous = SHA256()
        contiguous.update(Array(input[..<split]))
        contiguous.update(Array(input[split...]))
        #expect(Hex.encode(contiguous.finalize()) == expected)

        // A non-contiguous sequence takes the byte-by-byte path.
        var lazy = SHA256()
        lazy.update(input[..<split].lazy.map { $0 })
        lazy.update(input[split...].lazy.map { $0 })
        #expect(Hex.encode(lazy.finalize()) == expected)

        // Mixing the two paths.
        var mixed = SHA256()
        mixed.update(input[..<split].lazy.map { $0 })
        input[split...].withUnsafeBytes { mixed.update($0) }
        #expect(Hex.encode(mixed.finalize()) == expected)
    }

    @Test("one byte at a time equals the one-shot hash")
    func byteAtATime() {
        let input = patternBytes(130)
        var h = SHA256()
        for b in input { h.update([b]) }
        #expect(h.finalize() == SHA256.hash(input))
    }

    @Test("a copied hasher finalizes a prefix while the original keeps going")
    func copySnapshot() {
        var h = SHA256()
        h.update(Array("abc".utf8))
        let snapshot = h
        h.update(Array("def".utf8))
        #expect(snapshot.finalize() == SHA256.hash("abc"))
        #expect(h.finalize() == SHA256.hash("abcdef"))
    }

    @Test("digest is 32 bytes and String hashing uses UTF-8")
    func digestLengthAndUTF8() {
        #expect(SHA256.digestLength == 32)
        #expect(SHA256.hash("héllo ✓").count == SHA256.digestLength)
        #expect(SHA256.hash("héllo ✓") == SHA256.hash(Array("héllo ✓".utf8)))
        #expect(SHA256.hash("") == SHA256.hash([UInt8]()))
    }
}
