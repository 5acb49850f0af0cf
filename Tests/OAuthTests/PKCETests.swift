import AgentCrypto
import OAuth
import Testing

@Suite("PKCE (RFC 7636)")
struct PKCETests {
    // RFC 7636 Appendix B (cross-checked against an independent SHA-256).
    static let rfcVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    static let rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    static let rfcRandomBytes: [UInt8] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
        22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ]

    @Test("the Appendix B verifier yields the Appendix B challenge")
    func appendixBChallenge() throws {
        let pkce = try PKCE(verifier: Self.rfcVerifier)
        #expect(pkce.verifier == Self.rfcVerifier)
        #expect(pkce.challenge == Self.rfcChallenge)
        #expect(PKCE.challenge(for: Self.rfcVerifier) == Self.rfcChallenge)
        #expect(PKCE.method == "S256")
    }

    @Test("the Appendix B random bytes yield the Appendix B verifier")
    func appendixBRandomBytes() throws {
        let pkce = try PKCE(randomBytes: Self.rfcRandomBytes)
        #expect(pkce.verifier == Self.rfcVerifier)
        #expect(pkce.verifier.count == 43)
        #expect(pkce.challenge == Self.rfcChallenge)
        #expect(pkce == (try PKCE(verifier: Self.rfcVerifier)))
    }

    @Test("accepts the boundary lengths and every unreserved character")
    func acceptsValid() throws {
        _ = try PKCE(verifier: String(repeating: "a", count: 43))
        _ = try PKCE(verifier: String(repeating: "Z", count: 128))
        let all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
        #expect(try PKCE(verifier: all).verifier == all)
        #expect(try PKCE(randomBytes: [UInt8](repeating: 7, count: 96)).verifier.count == 128)
    }

    @Test("rejects verifiers of the wrong length or with other characters", arguments: [
        String(repeating: "a", count: 42),
        String(repeating: "a", count: 129),
        "",
        String(repeating: "a", count: 42) + "+",
        String(repeating: "a", count: 42) + "=",
        String(repeating: "a", count: 42) + "/",
        String(repeating: "a", count: 42) + " ",
        String(repeating: "a", count: 42) + "é",
    ])
    func rejectsInvalid(verifier: String) {
        #expect(throws: PKCEError.self) { try PKCE(verifier: verifier) }
    }

    @Test("rejects too few or too many random bytes", arguments: [0, 31, 97])
    func rejectsRandomByteCounts(count: Int) {
        #expect(throws: PKCEError.self) { try PKCE(randomBytes: [UInt8](repeating: 1, count: count)) }
    }

    @Test("errors describe themselves")
    func errorDescription() {
        do {
            _ = try PKCE(verifier: "short")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == error.message)
            #expect(error.message.contains("43"))
        }
    }
}
