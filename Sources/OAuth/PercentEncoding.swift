// Percent-encoding (RFC 3986 §2.1) for URL query components and
// application/x-www-form-urlencoded bodies.

public enum PercentEncoding {
    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// RFC 3986 unreserved kept, everything else %XX (uppercase hex) over
    /// UTF-8, for query components. Space becomes "%20", never "+".
    public static func encode(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if PKCE.isUnreserved(b) {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(b >> 4)])
                out.append(hexDigits[Int(b & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes %XX (either hex case) and, when `plusAsSpace` is true, '+' as
    /// space. Returns nil on a malformed escape ('%' not followed by two hex
    /// digits) or if the decoded bytes are not valid UTF-8.
    public static func decode(_ s: String, plusAsSpace: Bool = true) -> String? {
        let input = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            let b = input[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < input.count,
                      let hi = hexValue(input[i + 1]),
                      let lo = hexValue(input[i + 2])
                else { return nil }
                out.append(hi << 4 | lo)
                i += 3
            } else if plusAsSpace && b == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
                i += 1
            } else {
                out.append(b)
                i += 1
            }
        }
        return validUTF8String(out)
    }

    /// Parses "a=1&b=2" into ordered, decoded pairs. Empty segments ("a=1&&b")
    /// are ignored; a segment without '=' yields an empty value. Returns nil
    /// if any escape is malformed.
    public static func parseQuery(_ q: String) -> [(String, String)]? {
        var pairs: [(String, String)] = []
        for segment in q.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let eq = segment.firstIndex(of: "=") {
                name = segment[..<eq]
                value = segment[segment.index(after: eq)...]
            } else {
                name = segment
                value = ""
            }
            guard let n = decode(String(name)), let v = decode(String(value)) else { return nil }
            pairs.append((n, v))
        }
        return pairs
    }

    /// Builds "a=1&b=2" from pairs, encoding names and values with `encode`.
    public static func formEncode(_ pairs: [(String, String)]) -> String {
        pairs.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func validUTF8String(_ bytes: [UInt8]) -> String? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: break loop
            case .error: return nil
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
