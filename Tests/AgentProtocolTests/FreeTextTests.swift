import AgentProtocol
import Testing

@Suite("Free text: control characters refused at the door, escaped when printed")
struct FreeTextTests {
    @Test("C0, DEL and C1 are control characters; printable text, tabs aside, is not")
    func controls() {
        #expect(FreeText.problem(with: "my-cli on laptop (ünïcode)", field: "client_name") == nil)
        for text in ["a\u{1B}[2J", "a\tb", "a\nb", "a\u{7F}", "a\u{85}", "a\u{9B}31m", "\u{0}"] {
            #expect(FreeText.problem(with: text, field: "hostname") == "field \"hostname\" must not contain control characters")
        }
    }

    @Test("escaped text is one line with no control character, and unescaped text is unchanged")
    func escaping() {
        #expect(FreeText.escaped("plain ü text") == "plain ü text")
        #expect(FreeText.escaped("a\u{1B}[2Jb\nc\u{9B}\\") == "a\\u{1B}[2Jb\\u{0A}c\\u{9B}\\\\")
        #expect(!FreeText.escaped("x\r\ny\u{7F}").unicodeScalars.contains(where: FreeText.isControl))
    }

    @Test("a prefix by bytes keeps whole characters and never passes the cap")
    func prefixByBytes() {
        #expect(FreeText.prefix("short", maxBytes: 5) == "short")
        #expect(FreeText.prefix("abcdef", maxBytes: 3) == "abc")
        // "é" is 2 bytes, "👍🏽" one character of 8: a cut inside either drops it whole.
        #expect(FreeText.prefix("aé", maxBytes: 2) == "a")
        #expect(FreeText.prefix("a👍🏽b", maxBytes: 8) == "a")
        #expect(FreeText.prefix("a👍🏽b", maxBytes: 9) == "a👍🏽")
        // One character of 1 + 2 × 2000 bytes (combining marks): 1024 characters would not
        // bound it; 1024 bytes do.
        let heavy = "e" + String(repeating: "\u{301}", count: 2000)
        #expect(heavy.count == 1)
        #expect(FreeText.prefix(heavy + "x", maxBytes: 1024) == "")
        #expect(FreeText.prefix(String(repeating: "é", count: 1000), maxBytes: 1024).utf8.count == 1024)
    }
}
