import Foundation
import OAuth
import Testing

@Suite("Credentials files of Claude Code and the seed CLI")
struct CredentialsFileTests {
    static let claudeCode = """
        {
          "version": 2,
          "claudeAiOauth": {
            "accessToken": "sk-ant-oat01-old",
            "subscriptionType": "max",
            "refreshToken": "sk-ant-ort01-old",
            "expiresAt": 1795003600123,
            "scopes": ["user:inference", "user:profile"],
            "rateLimitTier": "default_claude_max_20x"
          },
          "mcpOAuth": {"server|1": {"accessToken": "mcp", "expiresAt": 0, "extra": [1, 2.5, null, true]}}
        }
        """

    static let seedCLI = """
        {"settings": {"theme": "dark"},
         "oauth": {"accessToken": "at-old", "refreshToken": "rt-old", "expiresAt": 1795003600, "scopes": ["user:inference"]},
         "apiKey": null}
        """

    static let newCredentials = StoredCredentials(accessToken: "sk-ant-oat01-new", refreshToken: "sk-ant-ort01-new",
                                                  expiresAt: 1_795_007_200, scopes: ["user:inference"])

    static func parse(_ text: String) throws(CredentialsFileError) -> CredentialsFile {
        try CredentialsFile.parse(Array(text.utf8), path: "/h/.claude/.credentials.json")
    }

    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// A fresh private directory, removed by the caller.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "oauth-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    static func permissions(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    static func write(_ text: String, to path: String, mode: Int = 0o644) throws {
        #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]))
    }

    static func contents(_ path: String) throws -> [UInt8] {
        [UInt8](try #require(FileManager.default.contents(atPath: path)))
    }

    @Test("Claude Code's file: claudeAiOauth with expiresAt in milliseconds")
    func parseClaudeCode() throws {
        let file = try Self.parse(Self.claudeCode)
        #expect(file.dialect == .claudeCode)
        #expect(file.credentials == StoredCredentials(accessToken: "sk-ant-oat01-old", refreshToken: "sk-ant-ort01-old",
                                                      expiresAt: 1_795_003_600, scopes: ["user:inference", "user:profile"]))
    }

    @Test("the seed CLI's file: oauth with expiresAt in seconds")
    func parseSeedCLI() throws {
        let file = try Self.parse(Self.seedCLI)
        #expect(file.dialect == .seedCLI)
        #expect(file.credentials == StoredCredentials(accessToken: "at-old", refreshToken: "rt-old",
                                                      expiresAt: 1_795_003_600, scopes: ["user:inference"]))
    }

    @Test("only accessToken is required; scopes may be space-joined")
    func minimalFile() throws {
        let file = try Self.parse("{\"oauth\": {\"accessToken\": \"a\", \"refreshToken\": null, \"scopes\": \"x y\"}}")
        #expect(file.credentials == StoredCredentials(accessToken: "a", refreshToken: nil, expiresAt: nil, scopes: ["x", "y"]))
    }

    @Test("updating changes our values in place in Claude Code's unit; every other byte stays")
    func updateClaudeCode() throws {
        let file = try Self.parse(Self.claudeCode)
        #expect(Self.text(try file.updating(Self.newCredentials)) == """
            {
              "version": 2,
              "claudeAiOauth": {
                "accessToken": "sk-ant-oat01-new",
                "subscriptionType": "max",
                "refreshToken": "sk-ant-ort01-new",
                "expiresAt": 1795007200000,
                "scopes": ["user:inference"],
                "rateLimitTier": "default_claude_max_20x"
              },
              "mcpOAuth": {"server|1": {"accessToken": "mcp", "expiresAt": 0, "extra": [1, 2.5, null, true]}}
            }
            """)
    }

    @Test("updating the seed CLI's file writes seconds; unchanged scopes keep their bytes")
    func updateSeedCLI() throws {
        let file = try Self.parse(Self.seedCLI)
        #expect(Self.text(try file.updating(Self.newCredentials)) == """
            {"settings": {"theme": "dark"},
             "oauth": {"accessToken": "sk-ant-oat01-new", "refreshToken": "sk-ant-ort01-new", "expiresAt": 1795007200, "scopes": ["user:inference"]},
             "apiKey": null}
            """)
    }

    @Test("an unchanged expiry keeps the file's milliseconds; absent fields are added as the last is spaced, nil ones removed")
    func updateDetails() throws {
        let file = try Self.parse(Self.claudeCode)
        var same = file.credentials
        same.accessToken = "sk-ant-oat01-next"
        #expect(Self.text(try file.updating(same)).contains("\"expiresAt\": 1795003600123,"))

        let bare = try Self.parse("{\"claudeAiOauth\": {\"accessToken\": \"a\", \"isMax\": true}}")
        #expect(Self.text(try bare.updating(Self.newCredentials)) == """
            {"claudeAiOauth": {"accessToken": "sk-ant-oat01-new", "isMax": true, "refreshToken": "sk-ant-ort01-new", \
            "expiresAt": 1795007200000, "scopes": ["user:inference"]}}
            """)

        let noRefresh = StoredCredentials(accessToken: "a2", refreshToken: nil, expiresAt: nil, scopes: [])
        #expect(Self.text(try file.updating(noRefresh)).contains("refreshToken") == false)
        #expect(Self.text(try file.updating(noRefresh)).contains("1795003600123") == false)
    }

    /// Claude Code's file as it may be found: minified, with numbers and escapes spelled
    /// as no serializer of ours would, and another login (`mcpOAuth`) beside ours.
    static let minifiedClaudeCode = #"{"claudeAiOauth":{"accessToken":"sk-ant-oat01-old","refreshToken":"sk-ant-ort01-old","expiresAt":1795003600123,"scopes":["user:inference","user:profile"],"subscriptionType":"max","rateLimitTier":"default_claude_max_20x","refreshTokenExpiresAt":1797595600000},"mcpOAuth":{"linear|5f2a":{"serverName":"linear","serverUrl":"https:\/\/mcp.linear.app\/sse","accessToken":"mcp-tok","expiresAt":1.7950036e12,"ratio":0.10,"tiny":1e-7,"neg":-0,"big":1E+2,"name":"caf\u00e9 \ud83d\ude00","path":"C:\\tmp"}}}"#

    static let prettyClaudeCode = #"""
        {
            "claudeAiOauth" : {
                "accessToken" : "sk-ant-oat01-old",
                "refreshToken" : "sk-ant-ort01-old",
                "expiresAt" : 1795003600123,
                "scopes" : [
                    "user:inference",
                    "user:profile"
                ],
                "subscriptionType" : "pro"
            },
            "mcpOAuth" : {
                "github|1" : {"accessToken": "gh", "expiresAt": 0.10, "x": 1e-7, "note": "\u00e9\/"}
            }
        }

        """#

    @Test("a minified Claude Code file stays minified: only our values change, numbers and escapes keep their spelling")
    func minifiedByteExact() throws {
        let file = try Self.parse(Self.minifiedClaudeCode)
        #expect(file.credentials.refreshTokenExpiresAt == 1_797_595_600)
        let new = StoredCredentials(accessToken: "sk-ant-oat01-new", refreshToken: "sk-ant-ort01-new", expiresAt: 1_795_007_200,
                                    scopes: ["user:profile", "user:inference"], refreshTokenExpiresAt: 1_797_599_200)
        let expected = Self.minifiedClaudeCode
            .replacingOccurrences(of: "sk-ant-oat01-old", with: "sk-ant-oat01-new")
            .replacingOccurrences(of: "sk-ant-ort01-old", with: "sk-ant-ort01-new")
            .replacingOccurrences(of: "1795003600123", with: "1795007200000")
            .replacingOccurrences(of: "1797595600000", with: "1797599200000")
        #expect(Self.text(try file.updating(new)) == expected)
    }

    @Test("a pretty Claude Code file keeps its indentation and spacing; changed scopes are laid out as before; refreshTokenExpiresAt is added in ms")
    func prettyByteExact() throws {
        let file = try Self.parse(Self.prettyClaudeCode)
        let new = StoredCredentials(accessToken: "sk-ant-oat01-new", refreshToken: "sk-ant-ort01-new", expiresAt: 1_795_007_200,
                                    scopes: ["user:inference", "user:profile", "user:file_upload"], refreshTokenExpiresAt: 1_797_599_200)
        #expect(Self.text(try file.updating(new)) == #"""
            {
                "claudeAiOauth" : {
                    "accessToken" : "sk-ant-oat01-new",
                    "refreshToken" : "sk-ant-ort01-new",
                    "expiresAt" : 1795007200000,
                    "scopes" : [
                        "user:inference",
                        "user:profile",
                        "user:file_upload"
                    ],
                    "subscriptionType" : "pro",
                    "refreshTokenExpiresAt" : 1797599200000
                },
                "mcpOAuth" : {
                    "github|1" : {"accessToken": "gh", "expiresAt": 0.10, "x": 1e-7, "note": "\u00e9\/"}
                }
            }

            """#)
    }

    @Test("removing our credentials keeps every other byte")
    func removing() throws {
        #expect(Self.text(try Self.parse(Self.claudeCode).removingCredentials()) == """
            {
              "version": 2,
              "mcpOAuth": {"server|1": {"accessToken": "mcp", "expiresAt": 0, "extra": [1, 2.5, null, true]}}
            }
            """)
        #expect(Self.text(try Self.parse(Self.seedCLI).removingCredentials()) == """
            {"settings": {"theme": "dark"},
             "apiKey": null}
            """)
        let minified = Self.minifiedClaudeCode
        #expect(Self.text(try Self.parse(minified).removingCredentials())
            == "{" + minified[try #require(minified.range(of: "\"mcpOAuth\"")).lowerBound...])
    }

    @Test("files that are not credentials are refused without quoting a token", arguments: [
        ("[]", "must hold a JSON object, not array"),
        ("{\"oauth\": ", "not valid JSON"),
        ("{\"other\": {}}", "holds neither \"claudeAiOauth\" (Claude Code) nor \"oauth\" (the seed CLI) credentials"),
        ("{\"claudeAiOauth\": \"secret-token\"}", "\"claudeAiOauth\" must be an object, not string"),
        ("{\"oauth\": {\"refreshToken\": \"secret-token\"}}", "\"oauth.accessToken\" is missing"),
        ("{\"oauth\": {\"accessToken\": \"\"}}", "\"oauth.accessToken\" must be a non-empty string"),
        ("{\"oauth\": {\"accessToken\": \"secret\", \"refreshToken\": 1}}", "\"oauth.refreshToken\" must be a string, not integer"),
        ("{\"oauth\": {\"accessToken\": \"secret\", \"expiresAt\": \"soon\"}}",
         "\"oauth.expiresAt\" must be a whole number of Unix seconds"),
        ("{\"claudeAiOauth\": {\"accessToken\": \"secret\", \"expiresAt\": 1.5}}",
         "\"claudeAiOauth.expiresAt\" must be a whole number of Unix milliseconds"),
        ("{\"oauth\": {\"accessToken\": \"secret\", \"scopes\": [1]}}", "\"oauth.scopes\" must be an array of strings"),
    ])
    func parseErrors(text: String, message: String) {
        do {
            let file = try Self.parse(text)
            Issue.record("parsed: \(file.credentials)")
        } catch {
            #expect(error.path == "/h/.claude/.credentials.json")
            #expect(error.message.hasPrefix(message), "\(error.message)")
            #expect(!error.description.contains("secret"))
        }
    }

    @Test("writeAtomically replaces the content, leaves the file 0600 and no temporary file behind")
    func writeAtomically() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/credentials.json"
        try Self.write("old content", to: path, mode: 0o644)
        try CredentialsFile.writeAtomically(Array("new content\n".utf8), to: path)
        #expect(Self.text(try Self.contents(path)) == "new content\n")
        #expect(try Self.permissions(path) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["credentials.json"])

        let fresh = directory + "/fresh.json"
        try CredentialsFile.writeAtomically(Array("{}".utf8), to: fresh)
        #expect(try Self.permissions(fresh) == 0o600)
    }

    @Test("writing into a missing directory fails with the path and the reason")
    func writeFailure() {
        #expect(throws: CredentialsFileError(path: "/nonexistent-dir-for-tests/c.json",
                                             message: "cannot write: No such file or directory")) {
            try CredentialsFile.writeAtomically([], to: "/nonexistent-dir-for-tests/c.json")
        }
    }

    @Test("update() writes our fields into the file and keeps the rest")
    func updateFile() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/.credentials.json"
        try Self.write(Self.claudeCode, to: path)
        try CredentialsFile.update(path: path, with: Self.newCredentials)
        let file = try CredentialsFile.read(path: path)
        #expect(file.dialect == .claudeCode)
        #expect(file.credentials == Self.newCredentials)
        #expect(try Self.contents(path) == (try (try Self.parse(Self.claudeCode)).updating(Self.newCredentials)))
        #expect(try Self.permissions(path) == 0o600)

        try CredentialsFile.removeCredentials(path: path)
        #expect(try Self.contents(path) == (try (try Self.parse(Self.claudeCode)).removingCredentials()))
    }

    @Test("update() through a symbolic link replaces the file it points to and keeps the link")
    func updateThroughLink() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/real.json"
        let link = directory + "/link.json"
        try Self.write(Self.seedCLI, to: target)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try CredentialsFile.update(path: link, with: Self.newCredentials)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        #expect(try CredentialsFile.read(path: target).credentials == Self.newCredentials)
    }

    @Test("update() never overwrites a file it cannot parse", arguments: [
        "{\"claudeAiOauth\": {\"accessToken\": \"a\", ", "{\"someOtherTool\": true}\n", "",
    ])
    func updateRefusesUnparsable(content: String) throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/.credentials.json"
        try Self.write(content, to: path)
        let before = try Self.contents(path)
        #expect(throws: CredentialsFileError.self) { try CredentialsFile.update(path: path, with: Self.newCredentials) }
        #expect(throws: CredentialsFileError.self) { try CredentialsFile.removeCredentials(path: path) }
        #expect(try Self.contents(path) == before)
        #expect(try Self.permissions(path) == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == [".credentials.json"])
    }

    @Test("update() does not create a missing file; readIfPresent tells a missing file apart")
    func missingFile() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/absent.json"
        #expect(throws: CredentialsFileError(path: path, message: "cannot read: No such file or directory")) {
            try CredentialsFile.update(path: path, with: Self.newCredentials)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try CredentialsFile.readIfPresent(path: path) == nil)
        try Self.write(Self.seedCLI, to: path)
        #expect(try CredentialsFile.readIfPresent(path: path)?.dialect == .seedCLI)
    }

    @Test("the import candidates, in order")
    func defaultPaths() {
        #expect(CredentialsFile.defaultPaths(environment: ["HOME": "/home/u", "CLAUDE_CONFIG_HOME": "/cfg/"]) == [
            "/cfg/credentials.json", "/home/u/.claude/.credentials.json", "/home/u/.claude/credentials.json",
        ])
        #expect(CredentialsFile.defaultPaths(environment: ["HOME": "/home/u", "CLAUDE_CONFIG_HOME": ""]) == [
            "/home/u/.claude/.credentials.json", "/home/u/.claude/credentials.json",
        ])
        #expect(CredentialsFile.defaultPaths(environment: ["HOME": "/home/u", "CLAUDE_CONFIG_HOME": "/home/u/.claude"]) == [
            "/home/u/.claude/credentials.json", "/home/u/.claude/.credentials.json",
        ])
        #expect(CredentialsFile.defaultPaths(environment: [:]) == [])
    }
}
