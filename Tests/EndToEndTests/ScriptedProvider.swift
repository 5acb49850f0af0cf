import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The scripted token endpoint (`Tests/OAuthTests/fake_token_endpoint.py`) for the
/// behaviours of real providers that django-oauth-toolkit cannot be made to show: a
/// rotation answered late, odd fields in a 200, a 503 after a minute. Started once per
/// test process; each test uses its own key, so tests never share a token family.
final class ScriptedProvider: @unchecked Sendable {
    // Immutable after init.
    let port: Int
    private let process: Process
    private let input: Pipe

    static let shared: Result<ScriptedProvider, TestFailure> = Result { () throws(TestFailure) in try ScriptedProvider() }

    static func start() throws -> ScriptedProvider { try shared.get() }

    private init() throws(TestFailure) {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repository.root + "/Tests/OAuthTests/fake_token_endpoint.py"]
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw TestFailure("cannot start fake_token_endpoint.py: \(error)")
        }
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw TestFailure("the scripted token endpoint exited before it was ready") }
            line.append(chunk)
        }
        let words = String(decoding: line, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard words.count == 3, words[0] == "READY", let port = Int(words[1]) else {
            throw TestFailure("unexpected first line from the scripted token endpoint")
        }
        self.port = port
    }

    static func newKey() -> String { UUID().uuidString.lowercased() }

    /// The token URL for `key` behaving as `query` says (`mode=rotate&…`).
    func tokenURL(key: String, _ query: String) -> String {
        "http://127.0.0.1:\(port)/o/token/?key=\(key)&\(query)"
    }

    /// The environment that points an agent's default provider at this endpoint.
    func environment(key: String, _ query: String) -> [String: String] {
        ["CLAUDE_AGENT_TOKEN_URL": tokenURL(key: key, query), "CLAUDE_AGENT_TOKEN_ENCODING": "form"]
    }

    /// The refresh tokens the provider received under `key`, in order.
    func refreshTokensSeen(key: String) throws -> [String] {
        let (_, body) = try HTTP.send(URLRequest(url: URL(string: "http://127.0.0.1:\(port)/log?key=\(key)")!))
        let records = try JSONSerialization.jsonObject(with: body) as? [[String: Any]] ?? []
        return records.map { (($0["fields"] as? [String: Any])?["refresh_token"] as? String) ?? "<none>" }
    }

    /// Refreshes as another tool would (Claude Code itself, in real life): the answer's
    /// access and refresh token.
    func refreshAsAnotherTool(key: String, _ query: String, refreshToken: String) throws -> (access: String, refresh: String) {
        var request = URLRequest(url: URL(string: tokenURL(key: key, query))!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data("grant_type=refresh_token&client_id=another-tool&refresh_token=\(refreshToken)".utf8)
        let (status, body) = try HTTP.send(request)
        let answer = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        guard status == 200, let access = answer?["access_token"] as? String, let refresh = answer?["refresh_token"] as? String else {
            throw TestFailure("the other tool's refresh failed: HTTP \(status)")
        }
        return (access, refresh)
    }
}
