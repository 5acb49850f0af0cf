import AgentProtocol
import Foundation
import OAuth
import Testing

/// A token that could forge a header line is refused wherever it enters: the token
/// endpoint's answer and a credentials file (the CLI and `account.add`: EndToEndTests).
@Suite("Tokens outside RFC 6750 b64token are refused at every door")
struct TokenSyntaxTests {
    static let forged = ["abc\\r\\nX-Evil: 1", "a b", "tab\\tin", "del\\u007f", "caf\\u00e9", "=", "a=b"]

    @Test("Claude's real token shapes fit the rule")
    func claudeShapes() {
        #expect(TokenSyntax.problem(with: "sk-ant-oat01-AbC_d-9xYz", field: "access_token") == nil)
        #expect(TokenSyntax.problem(with: "sk-ant-ort01-AbC_d-9xYz==", field: "refresh_token") == nil)
        #expect(TokenSyntax.problem(with: "a.b~c+d/e", field: "access_token") == nil)
    }

    @Test("the token endpoint's answer with such a token is malformed", arguments: forged)
    func tokenEndpoint(_ token: String) {
        for body in [#"{"access_token": "\#(token)", "token_type": "Bearer"}"#,
                     #"{"access_token": "ok", "refresh_token": "\#(token)", "token_type": "Bearer"}"#] {
            do {
                let grant = try AccessTokenResponse.parse(Array(body.utf8), now: 1_795_000_000)
                Issue.record("parsed \(grant)")
            } catch {
                #expect(error.kind == .malformed, "\(error)")
                #expect(error.description.contains("b64token"))
            }
        }
    }

    @Test("a credentials file with such a token is refused", arguments: forged)
    func credentialsFile(_ token: String) throws {
        let directory = try CredentialsFileTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (index, fields) in [#""accessToken": "\#(token)""#, #""accessToken": "ok", "refreshToken": "\#(token)""#].enumerated() {
            let path = directory + "/\(index).json"
            try CredentialsFileTests.write(#"{"claudeAiOauth": {\#(fields)}}"#, to: path, mode: 0o600)
            #expect(throws: CredentialsFileError.self) { try CredentialsFile.read(path: path) }
        }
    }
}
