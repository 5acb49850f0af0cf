/// Approval ids (a token request's `request_id` on the wire): random, shown in UIs, in
/// the UUID form (8-4-4-4-12 hexadecimal digits) the original router used.
public enum ApprovalID {
    public static func isValid(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46) else {
                    return false
                }
            }
        }
        return true
    }
}
