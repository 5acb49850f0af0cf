/// Free text a peer or a person gives the agent (a request's `client_name` and
/// `hostname`, a denial's `reason`) ends up on other users' terminals (`claude-agent
/// requests`, a waiting `token --wait`'s error line). A control character there could move
/// the cursor, rewrite the screen or split the one-line `claude-agent: <code>: message`
/// rule, so the agent refuses such text at the door and the CLI escapes any it prints.
public enum FreeText {
    /// Whether `scalar` is a control character: C0 (U+0000–U+001F), DEL (U+007F) or C1
    /// (U+0080–U+009F), the ranges ECMA-48 gives terminal controls.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// Why `text` cannot be the free-text field `field`; nil when it can.
    public static func problem(with text: String, field: String) -> String? {
        guard text.unicodeScalars.contains(where: isControl) else { return nil }
        return "field \"\(field)\" must not contain control characters"
    }

    /// `text` with each control character written as `\u{XX}`, and `\` as `\\`, so it
    /// prints as the one line it is and cannot drive the terminal.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) || $0 == "\\" }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar == "\\" {
                out += "\\\\"
            } else if isControl(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u{" + (hex.count < 2 ? "0" + hex : hex) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The longest prefix of `text` that is whole characters and at most `maxBytes` bytes
    /// of UTF-8: a cap on size (a character may be many bytes) that cuts no character.
    public static func prefix(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var end = text.startIndex
        var bytes = 0
        for index in text.indices {
            let next = text.index(after: index)
            bytes += text.utf8.distance(from: index, to: next)
            guard bytes <= maxBytes else { break }
            end = next
        }
        return String(text[..<end])
    }
}
