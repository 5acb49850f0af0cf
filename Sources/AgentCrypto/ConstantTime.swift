/// Compares two byte collections for equality in time that depends only on
/// their lengths, never on where they first differ. Use it for comparing
/// secrets (tokens, MACs, state values). Different lengths return false
/// immediately: lengths are not treated as secret.
public func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for (x, y) in zip(a, b) {
        diff |= x ^ y
    }
    return diff == 0
}
