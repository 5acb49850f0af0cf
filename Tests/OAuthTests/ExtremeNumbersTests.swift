import AgentProtocol
import OAuth
import Testing

/// Numbers from a token endpoint or a credentials file are checked where they enter
/// (`NumberRange`): one that once trapped the agent is now dropped as an oddity (a token
/// endpoint's answer, whose rotated refresh token must not be lost) or makes the file
/// unreadable, and the agent serves on.
@Suite("extreme numbers in token answers and credentials files")
struct ExtremeNumbersTests {
    static let now: Int64 = 1_795_000_000

    static func grantFailure(_ text: String) -> OAuthError? {
        do {
            _ = try AccessTokenResponse.parse(Array(text.utf8), now: now)
            return nil
        } catch {
            return error
        }
    }

    @Test("expires_at or expires_in outside their ranges is dropped as an oddity: no known expiry, the refresh token kept", arguments: [
        #"{"access_token": "x", "expires_at": -9223372036854775808}"#,
        #"{"access_token": "x", "expires_at": 9223372036854775807}"#,
        #"{"access_token": "x", "expires_at": -1}"#,
        #"{"access_token": "x", "expires_at": 253402300800}"#,
        #"{"access_token": "x", "expires_at": "0000-01-01T00:00:00Z"}"#,
        #"{"access_token": "x", "expires_in": 9223372036854775807}"#,
        #"{"access_token": "x", "expires_in": "9223372036854775807"}"#,
        #"{"access_token": "x", "expires_in": 315576001}"#,
        #"{"access_token": "x", "expires_in": 1e300}"#,
        #"{"access_token": "x", "expires_in": 9223372036854775808}"#,
    ])
    func droppedTimes(_ answer: String) throws {
        let grant = try AccessTokenResponse.parse(Array(answer.replacingOccurrences(of: "{", with: #"{"refresh_token": "rotated", "#).utf8), now: Self.now)
        #expect(grant.expiresAt == nil)
        #expect(grant.refreshToken == "rotated")
        #expect(grant.oddities.contains { $0.hasSuffix("no known expiry") }, "\(grant.oddities)")
    }

    @Test("the ends of the ranges are accepted")
    func rangeEnds() throws {
        let latest = try AccessTokenResponse.parse(Array(#"{"access_token": "x", "expires_at": 253402300799}"#.utf8), now: Self.now)
        #expect(latest.expiresAt == 253_402_300_799)
        let longest = try AccessTokenResponse.parse(Array(#"{"access_token": "x", "expires_in": 315576000}"#.utf8), now: Self.now)
        #expect(longest.expiresAt == Self.now + 315_576_000)
        let expired = try AccessTokenResponse.parse(Array(#"{"access_token": "x", "expires_in": 0}"#.utf8), now: Self.now)
        #expect(expired.expiresAt == Self.now)
    }

    @Test("a token too large for any answer is a malformed answer; a scope list too large is ignored")
    func oversizedFields() throws {
        let big = String(repeating: "a", count: TokenBundle.maxTokenBytes + 1)
        #expect(Self.grantFailure(#"{"access_token": "\#(big)"}"#)?.kind == .malformed)
        #expect(Self.grantFailure(#"{"access_token": "x", "refresh_token": "\#(big)"}"#)?.kind == .malformed)
        let scopes = (0..<1000).map { "scope\($0)" }.joined(separator: " ")
        let grant = try AccessTokenResponse.parse(Array(#"{"access_token": "x", "scope": "\#(scopes)"}"#.utf8), now: Self.now)
        #expect(grant.scopes == nil)
        #expect(grant.oddities.contains("scope is over 4096 bytes: ignored"))
    }

    @Test("a credentials file whose expiresAt lies outside 1970 to 9999 is refused, not imported", arguments: [
        #"{"claudeAiOauth": {"accessToken": "x", "expiresAt": -9223372036854775808}}"#,
        #"{"claudeAiOauth": {"accessToken": "x", "expiresAt": 9223372036854775807}}"#,
        #"{"claudeAiOauth": {"accessToken": "x", "expiresAt": "-1"}}"#,
        #"{"oauth": {"accessToken": "x", "expiresAt": 253402300800}}"#,
        #"{"oauth": {"accessToken": "x", "expiresAt": -9223372036854775808}}"#,
    ])
    func credentialsFile(_ text: String) {
        #expect(throws: CredentialsFileError.self) { try CredentialsFile.parse(Array(text.utf8), path: "/f") }
    }
}
