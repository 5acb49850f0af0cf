import AgentPOSIX
import AgentProtocol

/// The two credential-file dialects other tools write.
public enum CredentialsDialect: String, Sendable {
    /// Claude Code's `~/.claude/.credentials.json`: `claudeAiOauth`, `expiresAt` in milliseconds.
    case claudeCode
    /// The seed CLI's `credentials.json`: `oauth`, `expiresAt` in seconds.
    case seedCLI

    var key: String { self == .claudeCode ? "claudeAiOauth" : "oauth" }
    var unitsPerSecond: Int64 { self == .claudeCode ? 1000 : 1 }
}

/// The fields of a credentials file that are ours.
public struct StoredCredentials: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String?
    /// Unix seconds.
    public var expiresAt: Int64?
    public var scopes: [String]

    public init(accessToken: String, refreshToken: String?, expiresAt: Int64?, scopes: [String]) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.scopes = scopes
    }
}

public struct CredentialsFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}

/// A credentials file, parsed; rewriting it keeps every field we do not own exactly as
/// it was, in the same order and dialect.
public struct CredentialsFile: Sendable {
    public let dialect: CredentialsDialect
    public let credentials: StoredCredentials
    private let document: JSONObject

    public static func parse(_ bytes: [UInt8], path: String) throws(CredentialsFileError) -> CredentialsFile {
        func fail(_ message: String) -> CredentialsFileError { CredentialsFileError(path: path, message: message) }
        guard let document = (try? JSONValue.parse(bytes))?.objectValue else { throw fail("not a JSON object") }
        let dialect: CredentialsDialect
        if document["claudeAiOauth"] != nil {
            dialect = .claudeCode
        } else if document["oauth"] != nil {
            dialect = .seedCLI
        } else {
            throw fail("neither \"claudeAiOauth\" (Claude Code) nor \"oauth\" (the seed CLI) is present")
        }
        guard let fields = document[dialect.key]?.objectValue else { throw fail("\"\(dialect.key)\" is not an object") }
        guard let access = fields["accessToken"]?.stringValue, !access.isEmpty else {
            throw fail("\"\(dialect.key).accessToken\" is missing")
        }
        let expiry = fields["expiresAt"]?.intValue.map { $0 / dialect.unitsPerSecond }
        let scopes = fields["scopes"]?.arrayValue?.compactMap(\.stringValue)
            ?? fields["scopes"]?.stringValue.map(Scopes.parse) ?? []
        let credentials = StoredCredentials(accessToken: access, refreshToken: fields["refreshToken"]?.stringValue,
                                            expiresAt: expiry, scopes: scopes)
        return CredentialsFile(dialect: dialect, credentials: credentials, document: document)
    }

    /// The file with our fields replaced and every other field kept, as pretty JSON.
    public func updating(_ credentials: StoredCredentials) -> [UInt8] {
        var document = self.document
        var fields = document[dialect.key]?.objectValue ?? JSONObject()
        fields["accessToken"] = .string(credentials.accessToken)
        if let refresh = credentials.refreshToken { fields["refreshToken"] = .string(refresh) }
        if let expiry = credentials.expiresAt { fields["expiresAt"] = .int(expiry * dialect.unitsPerSecond) }
        fields["scopes"] = .array(credentials.scopes.map(JSONValue.string))
        document[dialect.key] = .object(fields)
        return JSONValue.object(document).serialized(pretty: true) + [UInt8(ascii: "\n")]
    }

    /// The file without our object, everything else kept.
    public func removingCredentials() -> [UInt8] {
        var document = self.document
        document[dialect.key] = nil
        return JSONValue.object(document).serialized(pretty: true) + [UInt8(ascii: "\n")]
    }

    public static func read(path: String) throws(CredentialsFileError) -> CredentialsFile {
        let bytes: [UInt8]
        do throws(Errno) {
            bytes = try FileSystem.readFile(path)
        } catch {
            throw CredentialsFileError(path: path, message: "cannot read: \(error)")
        }
        return try parse(bytes, path: path)
    }

    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(CredentialsFileError) {
        do throws(Errno) {
            try FileSystem.replaceAtomically(path, with: bytes)
        } catch {
            throw CredentialsFileError(path: path, message: "cannot write: \(error)")
        }
    }

    /// Re-reads the file, so a file that changed into something we cannot parse is never
    /// overwritten, then writes our fields back.
    public static func update(path: String, with credentials: StoredCredentials) throws(CredentialsFileError) {
        let file = try read(path: path)
        try writeAtomically(file.updating(credentials), to: path)
    }

    public static func removeCredentials(path: String) throws(CredentialsFileError) {
        let file = try read(path: path)
        try writeAtomically(file.removingCredentials(), to: path)
    }

    /// Where other tools keep their credentials, in the order they are tried.
    public static func defaultPaths(environment: [String: String]) -> [String] {
        var paths: [String] = []
        if let home = environment["CLAUDE_CONFIG_HOME"], !home.isEmpty { paths.append(home + "/credentials.json") }
        if let home = environment["HOME"], !home.isEmpty {
            paths += [home + "/.claude/.credentials.json", home + "/.claude/credentials.json"]
        }
        return paths
    }
}
