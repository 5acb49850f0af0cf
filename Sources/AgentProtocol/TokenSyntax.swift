/// The one rule an access or refresh token must meet wherever it enters the agent
/// (`account.add`, a credentials file, the token endpoint's answer): RFC 6750 §2.1's
/// `b64token` (`1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`), which
/// Claude's tokens (`sk-ant-oat01-…`, `sk-ant-ort01-…`) and every other bearer token fit.
/// A token is pasted into an `Authorization` header (`token --header`, `exec`, the
/// endpoint), so a CR, LF, space or other byte outside the rule would let it forge
/// another header line or split one.
public enum TokenSyntax {
    /// Why `token` cannot be a token, naming `field`; nil when it is one.
    public static func problem(with token: String, field: String) -> String? {
        if token.isEmpty { return "field \"\(field)\" must not be empty" }
        if token.utf8.count > TokenBundle.maxTokenBytes {
            return "field \"\(field)\" must be at most \(TokenBundle.maxTokenBytes) bytes"
        }
        var bytes = Substring(token).utf8[...]
        while bytes.last == UInt8(ascii: "=") { bytes = bytes.dropLast() }
        guard !bytes.isEmpty, bytes.allSatisfy(isB64TokenByte) else {
            return "field \"\(field)\" must be an RFC 6750 b64token (ASCII letters, digits and - . _ ~ + /, then any \"=\"): "
                + "no spaces, control characters or other bytes, which could forge an HTTP header"
        }
        return nil
    }

    static func isB64TokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }
}
