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
}
