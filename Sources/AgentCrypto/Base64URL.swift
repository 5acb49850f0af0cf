// Base64 encodings (RFC 4648). Base64URL (§5, unpadded) is what OAuth/PKCE
// and JWTs use; standard Base64 (§4, padded) is needed for HTTP Basic auth.

/// RFC 4648 §5 "base64url": alphabet `A-Z a-z 0-9 - _`.
public enum Base64URL {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Encodes without `=` padding.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        base64Encode(bytes, alphabet: alphabet, pad: false)
    }

    /// Decodes base64url text, with or without `=` padding.
    ///
    /// Returns nil for any character outside the base64url alphabet
    /// (including `+`, `/`, whitespace, or `=` anywhere but the end), for a
    /// length no encoding can produce (4n+1 characters, or padding that does
    /// not complete the last quantum to 4 characters), and for non-canonical
    /// input whose unused trailing bits are not zero.
    public static func decode(_ text: String) -> [UInt8]? {
        base64Decode(text, table: decodeTable)
    }

    private static let decodeTable = base64DecodeTable(alphabet)
}

/// RFC 4648 §4 standard base64: alphabet `A-Z a-z 0-9 + /`, `=` padded.
public enum Base64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encodes with `=` padding to a multiple of 4 characters.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        base64Encode(bytes, alphabet: alphabet, pad: true)
    }

    /// Decodes standard base64 text, with or without `=` padding, under the same rules as
    /// `Base64URL.decode` with this alphabet (so `-`, `_` and whitespace are refused).
    public static func decode(_ text: String) -> [UInt8]? {
        base64Decode(text, table: decodeTable)
    }

    private static let decodeTable = base64DecodeTable(alphabet)
}

private func base64DecodeTable(_ alphabet: [UInt8]) -> [UInt8?] {
    var table = [UInt8?](repeating: nil, count: 256)
    for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
    return table
}

private func base64Decode(_ text: String, table: [UInt8?]) -> [UInt8]? {
    var chars = Array(text.utf8)
    // Strip up to two trailing '=', remembering how many.
    var padding = 0
    while let last = chars.last, last == UInt8(ascii: "=") {
        chars.removeLast()
        padding += 1
    }
    if padding > 0 {
        guard padding <= 2, (chars.count + padding) % 4 == 0 else { return nil }
    }
    let remainder = chars.count % 4
    if remainder == 1 { return nil }

    var out: [UInt8] = []
    out.reserveCapacity(chars.count * 3 / 4)
    var acc: UInt32 = 0
    var bits = 0
    for c in chars {
        guard let v = table[Int(c)] else { return nil }
        acc = (acc << 6) | UInt32(v)
        bits += 6
        if bits >= 8 {
            bits -= 8
            out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            acc &= (1 << UInt32(bits)) - 1
        }
    }
    // Leftover bits (2 or 4) must be zero in a canonical encoding.
    guard acc == 0 else { return nil }
    return out
}

private func base64Encode(_ bytes: some Sequence<UInt8>, alphabet: [UInt8], pad: Bool) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.underestimatedCount * 4 / 3 + 4)
    var acc: UInt32 = 0
    var n = 0
    for b in bytes {
        acc = (acc << 8) | UInt32(b)
        n += 1
        if n == 3 {
            out.append(alphabet[Int((acc >> 18) & 63)])
            out.append(alphabet[Int((acc >> 12) & 63)])
            out.append(alphabet[Int((acc >> 6) & 63)])
            out.append(alphabet[Int(acc & 63)])
            acc = 0
            n = 0
        }
    }
    if n == 1 {
        out.append(alphabet[Int((acc >> 2) & 63)])
        out.append(alphabet[Int((acc << 4) & 63)])
        if pad { out.append(UInt8(ascii: "=")); out.append(UInt8(ascii: "=")) }
    } else if n == 2 {
        out.append(alphabet[Int((acc >> 10) & 63)])
        out.append(alphabet[Int((acc >> 4) & 63)])
        out.append(alphabet[Int((acc << 2) & 63)])
        if pad { out.append(UInt8(ascii: "=")) }
    }
    return String(decoding: out, as: UTF8.self)
}
