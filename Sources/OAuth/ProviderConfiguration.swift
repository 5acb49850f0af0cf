import AgentProtocol

/// How a token request body is written: RFC 6749's form encoding, or JSON (Claude's
/// endpoint accepts JSON, as Claude Code sends it).
public enum TokenRequestEncoding: String, Sendable {
    case form, json
}

/// One OAuth provider: where to send users and where to exchange codes.
public struct ProviderConfiguration: Sendable, Equatable {
    public var name: String
    public var clientID: String
    public var authorizeURL: String
    public var tokenURL: String
    public var revocationURL: String?
    /// nil: the login client supplies a loopback redirect (RFC 8252).
    public var redirectURI: String?
    public var scopes: [String]
    public var clientSecret: String?
    public var tokenRequestEncoding: TokenRequestEncoding
    public var extraAuthorizeParameters: [(String, String)]
    public var userAgent: String

    public init(name: String, clientID: String, authorizeURL: String, tokenURL: String, revocationURL: String? = nil,
                redirectURI: String? = nil, scopes: [String], clientSecret: String? = nil,
                tokenRequestEncoding: TokenRequestEncoding = .form, extraAuthorizeParameters: [(String, String)] = [],
                userAgent: String = "claude-agent/\(agentVersion)") {
        self.name = name
        self.clientID = clientID
        self.authorizeURL = authorizeURL
        self.tokenURL = tokenURL
        self.revocationURL = revocationURL
        self.redirectURI = redirectURI
        self.scopes = scopes
        self.clientSecret = clientSecret
        self.tokenRequestEncoding = tokenRequestEncoding
        self.extraAuthorizeParameters = extraAuthorizeParameters
        self.userAgent = userAgent
    }

    public static func == (lhs: ProviderConfiguration, rhs: ProviderConfiguration) -> Bool {
        lhs.name == rhs.name && lhs.clientID == rhs.clientID && lhs.authorizeURL == rhs.authorizeURL
            && lhs.tokenURL == rhs.tokenURL && lhs.revocationURL == rhs.revocationURL && lhs.redirectURI == rhs.redirectURI
            && lhs.scopes == rhs.scopes && lhs.clientSecret == rhs.clientSecret
            && lhs.tokenRequestEncoding == rhs.tokenRequestEncoding && lhs.userAgent == rhs.userAgent
            && lhs.extraAuthorizeParameters.map(\.0) == rhs.extraAuthorizeParameters.map(\.0)
            && lhs.extraAuthorizeParameters.map(\.1) == rhs.extraAuthorizeParameters.map(\.1)
    }

    /// Claude's provider as Claude Code uses it today. Its endpoints have moved: the
    /// authorize page from claude.ai/oauth/authorize to claude.com/cai/oauth/authorize, the
    /// token endpoint from console.anthropic.com/v1/oauth/token to
    /// platform.claude.com/v1/oauth/token. Override any of them in the configuration file.
    public static let claude = ProviderConfiguration(
        name: "claude",
        clientID: "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
        authorizeURL: "https://claude.com/cai/oauth/authorize",
        tokenURL: "https://platform.claude.com/v1/oauth/token",
        scopes: ["user:profile", "user:inference", "user:sessions:claude_code"],
        tokenRequestEncoding: .json,
        extraAuthorizeParameters: [("code", "true")])
}

/// A configuration error: which file, which key, what is wrong.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var key: String
    public var message: String

    public var description: String { key.isEmpty ? "\(file): \(message)" : "\(file): \(key): \(message)" }
}

/// The providers and the control browser, from the configuration file
/// (`$XDG_CONFIG_HOME/claude-agent/config.json`), environment overrides and defaults:
///
/// ```json
/// {"default_provider": "claude", "control_browser_url": "http://127.0.0.1:7780",
///  "providers": {"test": {"client_id": "…", "authorize_url": "…", "token_url": "…",
///                         "revocation_url": "…", "redirect_uri": null, "scopes": ["read"],
///                         "client_secret": null, "token_request_encoding": "form",
///                         "extra_authorize_parameters": {"code": "true"}, "user_agent": "…"}}}
/// ```
///
/// Every key is optional except `client_id`, `authorize_url` and `token_url` for a provider
/// other than `claude` (which starts from the built-in values). Unknown keys are errors, so
/// a typo never passes silently.
public struct AgentSettings: Sendable, Equatable {
    public var providers: [String: ProviderConfiguration]
    public var defaultProvider: String
    public var controlBrowserURL: String

    public static let builtIn = AgentSettings(providers: ["claude": .claude], defaultProvider: "claude",
                                              controlBrowserURL: "http://127.0.0.1:7780")

    public func provider(named name: String?) -> ProviderConfiguration? {
        providers[name ?? defaultProvider]
    }

    public static func parse(_ bytes: [UInt8], path: String) throws(ConfigurationError) -> AgentSettings {
        func fail(_ key: String, _ message: String) -> ConfigurationError { ConfigurationError(file: path, key: key, message: message) }
        let root: JSONObject
        do {
            guard let object = try JSONValue.parse(bytes).objectValue else { throw fail("", "the file must hold a JSON object") }
            root = object
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw fail("", "not valid JSON: \(error)")
        }
        var settings = builtIn
        for key in root.keys where !["default_provider", "control_browser_url", "providers"].contains(key) {
            throw fail(key, "unknown key")
        }
        if let providers = root["providers"] {
            guard let object = providers.objectValue else { throw fail("providers", "must be an object") }
            for (name, value) in object {
                guard let fields = value.objectValue else { throw fail("providers.\(name)", "must be an object") }
                settings.providers[name] = try provider(name, fields, base: settings.providers[name], fail: fail)
            }
        }
        if let value = root["default_provider"] {
            guard let name = value.stringValue else { throw fail("default_provider", "must be a string") }
            guard settings.providers[name] != nil else { throw fail("default_provider", "no provider named \"\(name)\"") }
            settings.defaultProvider = name
        }
        if let value = root["control_browser_url"] {
            guard let url = value.stringValue, isHTTP(url) else { throw fail("control_browser_url", "must be an http or https URL") }
            settings.controlBrowserURL = url
        }
        return settings
    }

    private static func provider(_ name: String, _ fields: JSONObject, base: ProviderConfiguration?,
                                 fail: (String, String) -> ConfigurationError) throws(ConfigurationError) -> ProviderConfiguration {
        let prefix = "providers.\(name)."
        let known = ["client_id", "authorize_url", "token_url", "revocation_url", "redirect_uri", "scopes", "scope",
                     "client_secret", "token_request_encoding", "extra_authorize_parameters", "user_agent"]
        for key in fields.keys where !known.contains(key) { throw fail(prefix + key, "unknown key") }
        func string(_ key: String) throws(ConfigurationError) -> String? {
            guard let value = fields[key], !value.isNull else { return nil }
            guard let text = value.stringValue else { throw fail(prefix + key, "must be a string") }
            return text
        }
        func url(_ key: String) throws(ConfigurationError) -> String? {
            guard let text = try string(key) else { return nil }
            guard isHTTP(text) else { throw fail(prefix + key, "must be an http or https URL") }
            return text
        }
        guard let clientID = try string("client_id") ?? base?.clientID else { throw fail(prefix + "client_id", "is required") }
        guard let authorize = try url("authorize_url") ?? base?.authorizeURL else { throw fail(prefix + "authorize_url", "is required") }
        guard let token = try url("token_url") ?? base?.tokenURL else { throw fail(prefix + "token_url", "is required") }
        var provider = ProviderConfiguration(name: name, clientID: clientID, authorizeURL: authorize, tokenURL: token,
                                             revocationURL: base?.revocationURL, redirectURI: base?.redirectURI,
                                             scopes: base?.scopes ?? [], clientSecret: base?.clientSecret,
                                             tokenRequestEncoding: base?.tokenRequestEncoding ?? .form,
                                             extraAuthorizeParameters: base?.extraAuthorizeParameters ?? [],
                                             userAgent: base?.userAgent ?? "claude-agent/\(agentVersion)")
        if fields["revocation_url"] != nil { provider.revocationURL = try url("revocation_url") }
        if fields["redirect_uri"] != nil { provider.redirectURI = try url("redirect_uri") }
        if fields["client_secret"] != nil { provider.clientSecret = try string("client_secret") }
        if let agent = try string("user_agent") { provider.userAgent = agent }
        if let value = fields["scopes"] {
            guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw fail(prefix + "scopes", "must be an array of strings")
            }
            provider.scopes = Scopes.normalize(items.compactMap(\.stringValue))
        } else if let joined = try string("scope") {
            provider.scopes = Scopes.parse(joined)
        }
        if let encoding = try string("token_request_encoding") {
            guard let value = TokenRequestEncoding(rawValue: encoding) else {
                throw fail(prefix + "token_request_encoding", "must be \"form\" or \"json\"")
            }
            provider.tokenRequestEncoding = value
        }
        if let value = fields["extra_authorize_parameters"] {
            guard let object = value.objectValue else { throw fail(prefix + "extra_authorize_parameters", "must be an object of strings") }
            var pairs: [(String, String)] = []
            for (key, item) in object {
                guard let text = item.stringValue else { throw fail(prefix + "extra_authorize_parameters.\(key)", "must be a string") }
                pairs.append((key, text))
            }
            provider.extraAuthorizeParameters = pairs
        }
        return provider
    }

    /// Environment overrides for the default provider: `CLAUDE_AGENT_CLIENT_ID`,
    /// `CLAUDE_AGENT_AUTHORIZE_URL`, `CLAUDE_AGENT_TOKEN_URL`, `CLAUDE_AGENT_REVOCATION_URL`,
    /// `CLAUDE_AGENT_REDIRECT_URI`, `CLAUDE_AGENT_SCOPES` (space-joined),
    /// `CLAUDE_AGENT_CLIENT_SECRET`, `CLAUDE_AGENT_TOKEN_ENCODING` (form or json), and
    /// `CLAUDE_AGENT_CONTROL_BROWSER_URL`.
    public func applyingEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> AgentSettings {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func fail(_ name: String, _ message: String) -> ConfigurationError {
            ConfigurationError(file: "environment", key: name, message: message)
        }
        var settings = self
        guard var provider = settings.providers[defaultProvider] else { return settings }
        for (name, keyPath) in [("CLAUDE_AGENT_AUTHORIZE_URL", \ProviderConfiguration.authorizeURL),
                                ("CLAUDE_AGENT_TOKEN_URL", \ProviderConfiguration.tokenURL)] {
            if let url = value(name) {
                guard Self.isHTTP(url) else { throw fail(name, "must be an http or https URL") }
                provider[keyPath: keyPath] = url
            }
        }
        if let id = value("CLAUDE_AGENT_CLIENT_ID") { provider.clientID = id }
        if let url = value("CLAUDE_AGENT_REVOCATION_URL") {
            guard Self.isHTTP(url) else { throw fail("CLAUDE_AGENT_REVOCATION_URL", "must be an http or https URL") }
            provider.revocationURL = url
        }
        if let url = value("CLAUDE_AGENT_REDIRECT_URI") { provider.redirectURI = url }
        if let scopes = value("CLAUDE_AGENT_SCOPES") { provider.scopes = Scopes.parse(scopes) }
        if let secret = value("CLAUDE_AGENT_CLIENT_SECRET") { provider.clientSecret = secret }
        if let encoding = value("CLAUDE_AGENT_TOKEN_ENCODING") {
            guard let parsed = TokenRequestEncoding(rawValue: encoding) else {
                throw fail("CLAUDE_AGENT_TOKEN_ENCODING", "must be \"form\" or \"json\"")
            }
            provider.tokenRequestEncoding = parsed
        }
        settings.providers[defaultProvider] = provider
        if let url = value("CLAUDE_AGENT_CONTROL_BROWSER_URL") {
            guard Self.isHTTP(url) else { throw fail("CLAUDE_AGENT_CONTROL_BROWSER_URL", "must be an http or https URL") }
            settings.controlBrowserURL = url
        }
        return settings
    }

    static func isHTTP(_ url: String) -> Bool {
        (url.hasPrefix("http://") && url.count > 7) || (url.hasPrefix("https://") && url.count > 8)
    }
}
