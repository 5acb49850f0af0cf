import AgentProtocol
import Testing

@Suite("Percent-encoding (RFC 3986)")
struct PercentEncodingTests {
    @Test("keeps unreserved characters as they are")
    func unreserved() {
        let s = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
        #expect(PercentEncoding.encode(s) == s)
    }

    @Test("escapes reserved characters, space and '%' with uppercase hex", arguments: [
        ("a b&c=d/e?f#g+h%i", "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25i"),
        (":/?#[]@!$&'()*+,;=", "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D"),
        ("\u{7f}\n", "%7F%0A"),
    ])
    func reserved(plain: String, encoded: String) {
        #expect(PercentEncoding.encode(plain) == encoded)
        #expect(PercentEncoding.decode(encoded) == plain)
    }

    @Test("encodes UTF-8 bytes")
    func utf8() {
        #expect(PercentEncoding.encode("héllo ✓ 😀") == "h%C3%A9llo%20%E2%9C%93%20%F0%9F%98%80")
        #expect(PercentEncoding.decode("h%C3%A9llo%20%e2%9c%93%20%F0%9F%98%80") == "héllo ✓ 😀")
    }

    @Test("round-trips arbitrary strings", arguments: [
        "", "plain", "with space", "a+b", "100%", "x=1&y=2", "ünïcödé ∑ 𝄞", "line\nbreak\u{0}nul",
    ])
    func roundTrip(s: String) {
        #expect(PercentEncoding.decode(PercentEncoding.encode(s)) == s)
        #expect(PercentEncoding.decode(PercentEncoding.encode(s), plusAsSpace: false) == s)
    }

    @Test("'+' is a space only when asked")
    func plus() {
        #expect(PercentEncoding.decode("a+b") == "a b")
        #expect(PercentEncoding.decode("a+b", plusAsSpace: false) == "a+b")
        #expect(PercentEncoding.decode("a%2Bb") == "a+b")
    }

    @Test("rejects malformed escapes and invalid UTF-8", arguments: [
        "%", "%4", "abc%", "%zz", "%4g", "%%41", "%C3", "%FF", "%C3%28", "%ED%A0%80",
    ])
    func malformed(s: String) {
        #expect(PercentEncoding.decode(s) == nil)
    }

    @Test("parses queries into ordered decoded pairs")
    func parseQuery() throws {
        let pairs = try #require(PercentEncoding.parseQuery("code=abc%2F123&state=x+y&&empty=&flag&b=1=2&a=%C3%A9"))
        #expect(pairs.map(\.0) == ["code", "state", "empty", "flag", "b", "a"])
        #expect(pairs.map(\.1) == ["abc/123", "x y", "", "", "1=2", "é"])
        #expect(PercentEncoding.parseQuery("")?.isEmpty == true)
        #expect(PercentEncoding.parseQuery("&&")?.isEmpty == true)
    }

    @Test("query parsing fails on a malformed escape")
    func parseQueryMalformed() {
        #expect(PercentEncoding.parseQuery("a=1&b=%2") == nil)
        #expect(PercentEncoding.parseQuery("a%zz=1") == nil)
    }

    @Test("form-encodes pairs in order and round-trips through parseQuery")
    func formEncode() throws {
        let pairs = [
            ("grant_type", "authorization_code"),
            ("redirect_uri", "https://example.com/cb?x=1"),
            ("code", "a b+c&d"),
            ("note", "ünï"),
        ]
        let body = PercentEncoding.formEncode(pairs)
        #expect(body == "grant_type=authorization_code&redirect_uri=https%3A%2F%2Fexample.com%2Fcb%3Fx%3D1&code=a%20b%2Bc%26d&note=%C3%BCn%C3%AF")
        let parsed = try #require(PercentEncoding.parseQuery(body))
        #expect(parsed.map(\.0) == pairs.map(\.0))
        #expect(parsed.map(\.1) == pairs.map(\.1))
        #expect(PercentEncoding.formEncode([]) == "")
    }
}
