import AgentPOSIX
import AgentProtocol

/// The two credential-file dialects that other Claude tools write, so that the agent can
/// import a login a user already has and write refreshed tokens back where those tools
/// look (a refresh token rotates on use: a tool left holding the old one would fail).
public enum CredentialsDialect: String, Sendable {
    /// Claude Code's `~/.claude/.credentials.json`:
    /// `{"claudeAiOauth": {"accessToken", "refreshToken", "expiresAt", "scopes", …}, …}`
    /// with `expiresAt` in Unix **milliseconds**.
    case claudeCode
    /// The seed CLI's `credentials.json`:
    /// `{"oauth": {"accessToken", "refreshToken", "expiresAt", "scopes"}, …}`
    /// with `expiresAt` in Unix **seconds**.
    case seedCLI

    /// The top-level key holding our object.
    public var key: String { self == .claudeCode ? "claudeAiOauth" : "oauth" }

    /// How many `expiresAt` units make a second.
    var unitsPerSecond: Int64 { self == .claudeCode ? 1000 : 1 }
}

/// The fields of a credentials file that the agent reads and writes; whatever else the
/// file holds belongs to the tool that wrote it.
public struct StoredCredentials: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String?
    /// Unix seconds, whatever unit the file uses.
    public var expiresAt: Int64?
    public var scopes: [String]
    /// When the refresh token lapses, Unix seconds: Claude Code's `refreshTokenExpiresAt`
    /// (milliseconds in the file); the seed CLI has no such field.
    public var refreshTokenExpiresAt: Int64?

    public init(accessToken: String, refreshToken: String?, expiresAt: Int64?, scopes: [String], refreshTokenExpiresAt: Int64? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.scopes = scopes
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
    }
}

/// A credentials file that cannot be read, parsed or written. The message never holds a
/// token: it names fields, never their values.
public struct CredentialsFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `<path>: <message>`
    public var description: String { "\(path): \(message)" }
}

/// A parsed credentials file that can be rewritten without disturbing anything but our
/// fields: every other byte stays as it was (layout, number spellings, escapes, other
/// members such as Claude Code's `mcpOAuth`), because the file is shared with tools that
/// may store more there than we know of, and a diff of it should show only our change.
public struct CredentialsFile: Sendable {
    public let dialect: CredentialsDialect
    public let credentials: StoredCredentials
    /// The file as read, byte for byte.
    private let bytes: [UInt8]

    /// Parses a file's bytes and detects its dialect by its top-level key: `claudeAiOauth`
    /// (Claude Code) is looked for first, then `oauth` (the seed CLI). `path` is only used
    /// in error messages.
    public static func parse(_ bytes: [UInt8], path: String) throws(CredentialsFileError) -> CredentialsFile {
        func fail(_ message: String) -> CredentialsFileError { CredentialsFileError(path: path, message: message) }
        let value: JSONValue
        do throws(JSONError) {
            value = try JSONValue.parse(bytes)
        } catch {
            throw fail("not valid JSON (\(error))")
        }
        guard let document = value.objectValue else { throw fail("must hold a JSON object, not \(value.typeName)") }
        let dialect: CredentialsDialect
        if document.contains(key: CredentialsDialect.claudeCode.key) {
            dialect = .claudeCode
        } else if document.contains(key: CredentialsDialect.seedCLI.key) {
            dialect = .seedCLI
        } else {
            throw fail("holds neither \"claudeAiOauth\" (Claude Code) nor \"oauth\" (the seed CLI) credentials")
        }
        let name = dialect.key
        guard let fieldsValue = document[name], let fields = fieldsValue.objectValue else {
            throw fail("\"\(name)\" must be an object, not \(document[name]?.typeName ?? "missing")")
        }

        guard let accessValue = fields["accessToken"], !accessValue.isNull else { throw fail("\"\(name).accessToken\" is missing") }
        guard let accessToken = accessValue.stringValue, !accessToken.isEmpty,
              accessToken.utf8.count <= TokenBundle.maxTokenBytes else {
            throw fail("\"\(name).accessToken\" must be a non-empty string of at most \(TokenBundle.maxTokenBytes) bytes")
        }
        if let problem = TokenSyntax.problem(with: accessToken, field: "\(name).accessToken") { throw fail(problem) }

        var refreshToken: String?
        if let value = fields["refreshToken"], !value.isNull {
            guard let text = value.stringValue else { throw fail("\"\(name).refreshToken\" must be a string, not \(value.typeName)") }
            guard text.utf8.count <= TokenBundle.maxTokenBytes else {
                throw fail("\"\(name).refreshToken\" must be at most \(TokenBundle.maxTokenBytes) bytes")
            }
            if !text.isEmpty, let problem = TokenSyntax.problem(with: text, field: "\(name).refreshToken") { throw fail(problem) }
            refreshToken = text.isEmpty ? nil : text
        }

        var expiresAt: Int64?
        if let value = fields["expiresAt"], !value.isNull {
            guard let raw = value.intValue ?? value.stringValue.flatMap({ Int64($0) }) else {
                let unit = dialect == .claudeCode ? "milliseconds" : "seconds"
                throw fail("\"\(name).expiresAt\" must be a whole number of Unix \(unit)")
            }
            let seconds = floorDivide(raw, dialect.unitsPerSecond)
            guard NumberRange.epochSeconds.contains(seconds) else {
                throw fail("\"\(name).expiresAt\" must be a time from 1970 to 9999")
            }
            expiresAt = seconds
        }

        var scopes: [String] = []
        if let value = fields["scopes"], !value.isNull {
            if let text = value.stringValue {
                scopes = Scopes.parse(text)
            } else if let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) {
                scopes = Scopes.normalize(items.compactMap(\.stringValue))
            } else {
                throw fail("\"\(name).scopes\" must be an array of strings")
            }
            guard Scopes.fit(scopes) else { throw fail("\"\(name).scopes\" must take at most \(Scopes.maxJoinedBytes) bytes") }
        }

        var refreshTokenExpiresAt: Int64?
        if dialect == .claudeCode, let value = fields["refreshTokenExpiresAt"], !value.isNull {
            guard let raw = value.intValue else {
                throw fail("\"\(name).refreshTokenExpiresAt\" must be a whole number of Unix milliseconds")
            }
            let seconds = floorDivide(raw, dialect.unitsPerSecond)
            guard NumberRange.epochSeconds.contains(seconds) else {
                throw fail("\"\(name).refreshTokenExpiresAt\" must be a time from 1970 to 9999")
            }
            refreshTokenExpiresAt = seconds
        }

        let credentials = StoredCredentials(accessToken: accessToken, refreshToken: refreshToken,
                                            expiresAt: expiresAt, scopes: scopes, refreshTokenExpiresAt: refreshTokenExpiresAt)
        return CredentialsFile(dialect: dialect, credentials: credentials, bytes: bytes)
    }

    /// The file's new bytes with our fields changed in place and every other byte kept
    /// (`JSONTextEditor`): a minified file stays minified, a pretty one keeps its
    /// indentation, and numbers and escapes elsewhere keep their spelling.
    ///
    /// Our fields are `accessToken`, `refreshToken`, `expiresAt` (in the dialect's unit),
    /// `scopes` and, in Claude Code's file, `refreshTokenExpiresAt` (ms). A field whose
    /// value does not change keeps its bytes (scopes compare as sets); fields missing from
    /// the file are added after the others. A nil `refreshToken`, `expiresAt` or
    /// `refreshTokenExpiresAt` removes the field: whether to keep an old refresh token is
    /// the caller's decision, made by passing it. A time that names the same second as the
    /// file's keeps the file's exact value, so its milliseconds are not lost.
    /// - Throws: only if the edited document failed to parse, which would be a bug; the
    ///   file is then left alone.
    public func updating(_ new: StoredCredentials) throws(CredentialsFileError) -> [UInt8] {
        let path = [dialect.key]
        do throws(JSONError) {
            var editor = try JSONTextEditor(bytes)
            try editor.set("accessToken", in: path, to: .string(new.accessToken))
            if let refreshToken = new.refreshToken {
                try editor.set("refreshToken", in: path, to: .string(refreshToken))
            } else {
                try editor.remove("refreshToken", in: path)
            }
            try setTime("expiresAt", new.expiresAt, old: credentials.expiresAt, in: &editor)
            if Set(new.scopes) != Set(credentials.scopes) || editor.value(at: path + ["scopes"]) == nil {
                try editor.set("scopes", in: path, to: .array(new.scopes.map(JSONValue.string)))
            }
            if dialect == .claudeCode {
                try setTime("refreshTokenExpiresAt", new.refreshTokenExpiresAt, old: credentials.refreshTokenExpiresAt, in: &editor)
            }
            return editor.bytes
        } catch {
            throw CredentialsFileError(path: "", message: "could not edit the file in place (\(error))")
        }
    }

    /// Sets a time field in the dialect's unit, keeping the file's value when it names the
    /// same second; nil removes it.
    private func setTime(_ key: String, _ seconds: Int64?, old: Int64?, in editor: inout JSONTextEditor) throws(JSONError) {
        let path = [dialect.key]
        guard let seconds else {
            try editor.remove(key, in: path)
            return
        }
        if seconds == old, editor.value(at: path + [key])?.intValue != nil { return }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: dialect.unitsPerSecond)
        try editor.set(key, in: path, to: .int(overflow ? .max : scaled))
    }

    /// The file's new bytes with only our object (`claudeAiOauth` or `oauth`) removed, as
    /// at logout: the other tool's settings stay, byte for byte.
    public func removingCredentials() throws(CredentialsFileError) -> [UInt8] {
        do throws(JSONError) {
            var editor = try JSONTextEditor(bytes)
            try editor.remove(dialect.key, in: [])
            return editor.bytes
        } catch {
            throw CredentialsFileError(path: "", message: "could not edit the file in place (\(error))")
        }
    }

    /// Reads and parses the file at `path` (at most 1 MiB).
    public static func read(path: String) throws(CredentialsFileError) -> CredentialsFile {
        let bytes: [UInt8]
        do throws(Errno) {
            bytes = try FileSystem.readFile(path)
        } catch {
            throw CredentialsFileError(path: path, message: "cannot read: \(Errno(error.code))")
        }
        return try parse(bytes, path: path)
    }

    /// As `read`, but nil when the file does not exist: at start the agent tries every
    /// candidate path and most are absent.
    public static func readIfPresent(path: String) throws(CredentialsFileError) -> CredentialsFile? {
        do throws(Errno) {
            _ = try FileSystem.status(path)
        } catch {
            if error == .noSuchFile || error == .notDirectory { return nil }
            throw CredentialsFileError(path: path, message: "cannot read: \(Errno(error.code))")
        }
        return try read(path: path)
    }

    /// Replaces the file atomically: a temporary file created 0600 (`O_CREAT | O_EXCL`,
    /// random name) in the same directory, written, fsynced, renamed over the file, and the
    /// directory fsynced. A crash leaves the old file or the new one, never half of one.
    /// A symbolic link at `path` is followed, so the file it points to is replaced and the
    /// link stays. The new file is mode 0600.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(CredentialsFileError) {
        let target = try resolved(path)
        do throws(Errno) {
            try FileSystem.replaceAtomically(target, with: bytes)
        } catch {
            throw CredentialsFileError(path: path, message: "cannot write: \(Errno(error.code))")
        }
    }

    /// Writes `credentials` into the file at `path`, keeping everything else in it. The
    /// file is read and parsed again first: one that is missing, or that exists but cannot
    /// be parsed (another tool may be halfway through writing it, or it is not what we
    /// think it is), is never overwritten; this throws instead.
    public static func update(path: String, with credentials: StoredCredentials) throws(CredentialsFileError) {
        let file = try read(path: try resolved(path))
        let bytes: [UInt8]
        do throws(CredentialsFileError) {
            bytes = try file.updating(credentials)
        } catch {
            throw CredentialsFileError(path: path, message: error.message)
        }
        try writeAtomically(bytes, to: path)
    }

    /// Removes our object from the file at `path`, keeping everything else; a file that
    /// cannot be parsed is left alone and this throws.
    public static func removeCredentials(path: String) throws(CredentialsFileError) {
        let file = try read(path: try resolved(path))
        let bytes: [UInt8]
        do throws(CredentialsFileError) {
            bytes = try file.removingCredentials()
        } catch {
            throw CredentialsFileError(path: path, message: error.message)
        }
        try writeAtomically(bytes, to: path)
    }

    /// Candidate files to import at start, in order: `$CLAUDE_CONFIG_HOME/credentials.json`
    /// (the seed CLI's configured home), `~/.claude/.credentials.json` (Claude Code), and
    /// `~/.claude/credentials.json` (the seed CLI's default), from the given environment,
    /// without duplicates.
    public static func defaultPaths(environment: [String: String]) -> [String] {
        func joined(_ directory: String, _ name: String) -> String {
            directory.hasSuffix("/") ? directory + name : directory + "/" + name
        }
        var paths: [String] = []
        if let home = environment["CLAUDE_CONFIG_HOME"], !home.isEmpty {
            paths.append(joined(home, "credentials.json"))
        }
        if let home = environment["HOME"], !home.isEmpty {
            let claude = joined(home, ".claude")
            paths.append(joined(claude, ".credentials.json"))
            paths.append(joined(claude, "credentials.json"))
        }
        var seen = Set<String>()
        return paths.filter { seen.insert($0).inserted }
    }

    // MARK: - Private

    /// The path with symbolic links resolved when it exists; as given when it does not.
    private static func resolved(_ path: String) throws(CredentialsFileError) -> String {
        do throws(Errno) {
            return try FileSystem.resolvingSymbolicLinks(path)
        } catch {
            if error == .noSuchFile { return path }
            throw CredentialsFileError(path: path, message: "cannot resolve: \(Errno(error.code))")
        }
    }

    /// Division rounding toward negative infinity, so 1999 ms is second 1 and -1 ms is -1.
    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient
    }
}
