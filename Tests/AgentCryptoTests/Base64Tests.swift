import AgentCrypto
import Testing

@Suite("Base64URL and Base64 (RFC 4648)")
struct Base64Tests {
    @Test("encodes the RFC 4648 §10 vectors", arguments: [
        ("", "", ""),
        ("f", "Zg", "Zg=="),
        ("fo", "Zm8", "Zm8="),
        ("foo", "Zm9v", "Zm9v"),
        ("foob", "Zm9vYg", "Zm9vYg=="),
        ("fooba", "Zm9vYmE", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy", "Zm9vYmFy"),
    ])
    func rfcVectors(plain: String, url: String, standard: String) {
        let bytes = Array(plain.utf8)
        #expect(Base64URL.encode(bytes) == url)
        #expect(Base64.encode(bytes) == standard)
        #expect(Base64URL.decode(url) == bytes)
        #expect(Base64URL.decode(standard) == bytes)
        #expect(Base64.decode(standard) == bytes)
    }

    @Test("uses '-' and '_' where standard base64 uses '+' and '/'")
    func urlSafeAlphabet() {
        #expect(Base64URL.encode([0xfb, 0xff, 0xbf]) == "-_-_")
        #expect(Base64.encode([0xfb, 0xff, 0xbf]) == "+/+/")
        #expect(Base64URL.encode([0xfb, 0xf0]) == "-_A")
        #expect(Base64.encode([0xfb, 0xf0]) == "+/A=")
        #expect(Base64URL.decode("-_-_") == [0xfb, 0xff, 0xbf])
        #expect(Base64URL.decode("-_A") == [0xfb, 0xf0])
        #expect(Base64.decode("+/+/") == [0xfb, 0xff, 0xbf])
        #expect(Base64.decode("-_-_") == nil)
        #expect(Base64.decode("Zm9v\n") == nil)
    }

    @Test("decode rejects invalid characters", arguments: [
        "+/+/", "Zm9v!", "Zm 9v", "Zm9v\n", "Zg=a", "Z=g=", "=Zg", "Zm9vYmFyé",
    ])
    func rejectsBadCharacters(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test("decode rejects impossible lengths and padding", arguments: [
        "Z", "Zm9vY", "Zg=", "Zg===", "Zm9=", "Zm9vY===", "=", "==",
    ])
    func rejectsBadLengths(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test("decode rejects non-zero unused trailing bits")
    func rejectsNonCanonical() {
        #expect(Base64URL.decode("Zh") == nil)   // "Zg" is canonical for "f"
        #expect(Base64URL.decode("Zm9") == nil)  // "Zm8" is canonical for "fo"
    }

    @Test("round-trips all 256 byte values at every length remainder", arguments: 0 ..< 3)
    func roundTripAllBytes(drop: Int) {
        let bytes = Array((0 ... 255).map { UInt8($0) }.dropFirst(drop))
        let encoded = Base64URL.encode(bytes)
        #expect(!encoded.contains("="))
        #expect(Base64URL.decode(encoded) == bytes)
        #expect(Base64.encode(bytes).count % 4 == 0)
        #expect(Base64.decode(Base64.encode(bytes)) == bytes)
    }
}

@Suite("Hex, constant-time comparison and fingerprints")
struct SmallHelpersTests {
    @Test("hex is lowercase, two digits per byte")
    func hex() {
        #expect(Hex.encode([]) == "")
        #expect(Hex.encode([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
    }

    @Test("constantTimeEqual compares contents and lengths", arguments: [
        ([UInt8](), [UInt8](), true),
        ([1, 2, 3], [1, 2, 3], true),
        ([1, 2, 3], [1, 2, 4], false),
        ([0, 2, 3], [1, 2, 3], false),
        ([1, 2, 3], [1, 2], false),
        ([], [0], false),
    ])
    func constantTime(a: [UInt8], b: [UInt8], equal: Bool) {
        #expect(constantTimeEqual(a, b) == equal)
        #expect(constantTimeEqual(b, a) == equal)
    }

    @Test("constantTimeEqual works across collection types")
    func constantTimeMixedCollections() {
        #expect(constantTimeEqual("secret".utf8, Array("secret".utf8)))
        #expect(!constantTimeEqual("secret".utf8, "secreT".utf8))
        #expect(constantTimeEqual([9, 1, 2, 3][1...], [1, 2, 3]))
    }

    @Test("fingerprint is SHA256: plus 12 base64url characters of the digest")
    func fingerprintFormat() {
        let fp = Fingerprint.of("sk-ant-oat01-example")
        #expect(fp == "SHA256:3zwphb8j7xId")
        #expect(fp.count == "SHA256:".count + 12)
        #expect(fp.hasPrefix("SHA256:"))
        #expect(Fingerprint.of("sk-ant-oat01-example") == fp)
    }

    @Test("different secrets have different fingerprints that do not contain the secret")
    func fingerprintDiffers() {
        let a = Fingerprint.of("token-a")
        let b = Fingerprint.of("token-b")
        #expect(a != b)
        #expect(!a.contains("token"))
        #expect(Fingerprint.of("") != Fingerprint.of(" "))
    }
}
