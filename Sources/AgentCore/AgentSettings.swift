import AgentProtocol
import OAuth

/// A bad configuration: which file (or `environment`), which key, and what is wrong, so the
/// person who wrote it can fix it from the message alone.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file's path, or `environment` for a bad environment variable.
    public var file: String
    /// The key path, e.g. `providers.test.token_url`, or the variable's name; empty when
    /// the problem is the whole file (not JSON, not an object).
    public var key: String
    public var message: String

    /// `<file>: <key>: <message>` (`<file>: <message>` when no key is to blame).
    public var description: String {
        key.isEmpty ? "\(file): \(message)" : "\(file): \(key): \(message)"
    }
}

/// The agent's settings: its OAuth providers, their token endpoints' time-out, and the
/// control browser. Everything else the agent is started with is `AgentConfiguration`.
///
/// They come from the built-in values, then the configuration file (the agent chooses its
/// path), then environment variables. The file is JSON:
///
/// ```json
/// {
///   "default_provider": "claude",
///   "control_browser_url": "http://127.0.0.1:7780",
///   "providers": {
///     "test": {
///       "client_id": "my-client",
///       "authorize_url": "https://auth.example.com/o/authorize/",
///       "token_url": "https://auth.example.com/o/token/",
///       "revocation_url": "https://auth.example.com/o/revoke_token/",
///       "redirect_uri": null,
///       "manual_redirect_uri": null,
///       "headers": {},
///       "api_url": null,
///       "scopes": ["read", "write"],
///       "client_secret": null,
///       "token_request_encoding": "form",
///       "extra_authorize_parameters": {"prompt": "login"},
///       "user_agent": "my-agent/1.0"
///     }
///   }
/// }
/// ```
///
/// - Every key is optional, except that a provider other than `claude` needs `client_id`,
///   `authorize_url` and `token_url`. A provider named `claude` starts from the built-in
///   one and replaces only the keys it gives, so `{"providers": {"claude": {"token_url":
///   "…"}}}` follows a moved endpoint.
/// - `refresh_timeout_seconds` (`refreshTimeoutRange`, default 30) is each attempt's
///   time-out at a token endpoint; `--refresh-timeout` overrides it.
/// - `default_provider` (default `claude`) is the provider used when a login names none;
///   it must name a provider. `control_browser_url` (default `http://127.0.0.1:7780`) is
///   where the control browser listens.
/// - URLs must start with `http://` or `https://`. `redirect_uri` is the automatic flow's
///   redirect (see `LoopbackRedirect`): a loopback URI without a port (any free port), with
///   a port (that one), or a provider page (paste); null (the default for providers other
///   than `claude`) means `http://127.0.0.1:<any port>/oauth/callback`.
///   `manual_redirect_uri` is the page used when the browser is elsewhere (null: none).
///   `revocation_url` and `client_secret` may be null.
/// - `headers`: an object of the HTTP headers the provider's access tokens need besides
///   `Authorization` (`claude`: `{"anthropic-beta": "oauth-2025-04-20"}`), handed to
///   clients with every token.
/// - `api_url`: the API the provider's tokens are for, where `claude-agent endpoint`
///   forwards when started without `--upstream` (`claude`: `https://api.anthropic.com`;
///   null: none, and the endpoint uses that default).
/// - Scopes are `scopes`, an array, or `scope`, one space-joined string, not both.
/// - `token_request_encoding` is `form` (RFC 6749) or `json` (Claude's endpoint).
/// - `extra_authorize_parameters` is an object of strings, added to the authorize URL in
///   order; it cannot replace the parameters the agent sets itself (`state`, `scope`, …).
/// - Unknown keys are errors, so a misspelt key never passes silently. Every error names
///   the file and the key path: `config.json: providers.test.token_url: must be an http
///   or https URL`.
///
/// Environment variables then override the default provider (see `applyingEnvironment`).
public struct AgentSettings: Sendable, Equatable {
    /// By name. Always holds `claude`, since the file can only adjust it, not remove it.
    public var providers: [String: ProviderConfiguration]
    public var defaultProvider: String
    /// The control browser (the Electron app that opens authorize pages in one account's
    /// browser profile).
    public var controlBrowserURL: String
    /// Each attempt's time-out at a token endpoint, in seconds, from `refreshTimeoutRange`:
    /// `--refresh-timeout`, else the file's `refresh_timeout_seconds`, else
    /// `defaultRefreshTimeoutSeconds`.
    public var refreshTimeoutSeconds: Int64

    public init(providers: [String: ProviderConfiguration], defaultProvider: String, controlBrowserURL: String,
                refreshTimeoutSeconds: Int64 = defaultRefreshTimeoutSeconds) {
        self.providers = providers
        self.defaultProvider = defaultProvider
        self.controlBrowserURL = controlBrowserURL
        self.refreshTimeoutSeconds = refreshTimeoutSeconds
    }

    /// The time-outs a token endpoint request may be given, in seconds: long enough for a
    /// slow provider that rotates on receipt and answers late, short enough that a dead
    /// one is noticed within minutes.
    public static let refreshTimeoutRange = NumberRange.refreshTimeoutSeconds
    /// The token endpoint client's own default.
    public static let defaultRefreshTimeoutSeconds = TokenEndpointClient.defaultTimeoutMilliseconds / 1000

    public static let defaultControlBrowserURL = "http://127.0.0.1:7780"

    /// The settings without a configuration file: Claude only.
    public static let builtIn = AgentSettings(providers: ["claude": .claude], defaultProvider: "claude",
                                              controlBrowserURL: defaultControlBrowserURL)

    /// The provider called `name`, or the default provider when `name` is nil.
    public func provider(named name: String?) -> ProviderConfiguration? {
        providers[name ?? defaultProvider]
    }

    /// Parses the configuration file's bytes on top of the built-in settings.
    /// `path` is only used in error messages.
    public static func parse(_ bytes: [UInt8], path: String) throws(ConfigurationError) -> AgentSettings {
        let document: JSONValue
        do throws(JSONError) {
            document = try JSONValue.parse(bytes)
        } catch {
            throw ConfigurationError(file: path, key: "", message: "not valid JSON: \(error)")
        }
        guard let root = document.objectValue else {
            throw ConfigurationError(file: path, key: "", message: "must hold a JSON object, not \(document.typeName)")
        }
        let reader = SettingsReader(file: path)
        try reader.rejectUnknownKeys(root, known: ["default_provider", "control_browser_url", "providers", "refresh_timeout_seconds"],
                                     prefix: "")

        var settings = builtIn
        if let value = root["providers"] {
            guard let providers = value.objectValue else { throw reader.error("providers", "must be an object, not \(value.typeName)") }
            for (name, fields) in providers {
                let key = "providers.\(name)"
                guard isValidProviderName(name) else {
                    throw reader.error(key, "a provider name is 1 to \(maxProviderNameBytes) letters, digits, \".\", \"_\" or \"-\"")
                }
                guard let object = fields.objectValue else { throw reader.error(key, "must be an object, not \(fields.typeName)") }
                settings.providers[name] = try reader.provider(name, object, base: settings.providers[name])
            }
        }
        if let value = root["default_provider"] {
            guard let name = value.stringValue else { throw reader.error("default_provider", "must be a string, not \(value.typeName)") }
            guard settings.providers[name] != nil else {
                throw reader.error("default_provider", "no provider named \"\(name)\"")
            }
            settings.defaultProvider = name
        }
        if let value = root["control_browser_url"] {
            guard let url = value.stringValue else { throw reader.error("control_browser_url", "must be a string, not \(value.typeName)") }
            guard ProviderConfiguration.isHTTPURL(url) else { throw reader.error("control_browser_url", "must be an http or https URL") }
            settings.controlBrowserURL = url
        }
        if let value = root["refresh_timeout_seconds"] {
            guard let seconds = value.intValue, refreshTimeoutRange.contains(seconds) else {
                throw reader.error("refresh_timeout_seconds", "must be a whole number of seconds from \(refreshTimeoutRange.lowerBound) "
                                   + "to \(refreshTimeoutRange.upperBound)")
            }
            settings.refreshTimeoutSeconds = seconds
        }
        return settings
    }

    /// Applies environment overrides to the default provider:
    ///
    /// | variable | overrides |
    /// | --- | --- |
    /// | `CLAUDE_AGENT_CLIENT_ID` | `client_id` |
    /// | `CLAUDE_AGENT_AUTHORIZE_URL` | `authorize_url` |
    /// | `CLAUDE_AGENT_TOKEN_URL` | `token_url` |
    /// | `CLAUDE_AGENT_REVOCATION_URL` | `revocation_url` |
    /// | `CLAUDE_AGENT_REDIRECT_URI` | `redirect_uri` |
    /// | `CLAUDE_AGENT_MANUAL_REDIRECT_URI` | `manual_redirect_uri` |
    /// | `CLAUDE_AGENT_SCOPES` | `scopes` (space-joined) |
    /// | `CLAUDE_AGENT_CLIENT_SECRET` | `client_secret` |
    /// | `CLAUDE_AGENT_TOKEN_ENCODING` | `token_request_encoding` (`form` or `json`) |
    /// | `CLAUDE_AGENT_CONTROL_BROWSER_URL` | `control_browser_url` |
    ///
    /// An empty variable counts as unset, as shells make it easy to export one by accident.
    /// Errors name `environment` as the file and the variable as the key.
    public func applyingEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> AgentSettings {
        func value(_ name: String) -> String? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            return text
        }
        let reader = SettingsReader(file: "environment")
        func url(_ name: String) throws(ConfigurationError) -> String? {
            guard let text = value(name) else { return nil }
            guard ProviderConfiguration.isHTTPURL(text) else { throw reader.error(name, "must be an http or https URL") }
            return text
        }

        var settings = self
        if let browser = try url("CLAUDE_AGENT_CONTROL_BROWSER_URL") { settings.controlBrowserURL = browser }

        let providerVariables = ["CLAUDE_AGENT_CLIENT_ID", "CLAUDE_AGENT_AUTHORIZE_URL", "CLAUDE_AGENT_TOKEN_URL",
                                 "CLAUDE_AGENT_REVOCATION_URL", "CLAUDE_AGENT_REDIRECT_URI", "CLAUDE_AGENT_MANUAL_REDIRECT_URI", "CLAUDE_AGENT_SCOPES",
                                 "CLAUDE_AGENT_CLIENT_SECRET", "CLAUDE_AGENT_TOKEN_ENCODING"]
        guard let setVariable = providerVariables.first(where: { value($0) != nil }) else { return settings }
        guard var provider = settings.providers[defaultProvider] else {
            throw reader.error(setVariable, "the default provider \"\(defaultProvider)\" does not exist")
        }
        if let clientID = value("CLAUDE_AGENT_CLIENT_ID") { provider.clientID = clientID }
        if let authorize = try url("CLAUDE_AGENT_AUTHORIZE_URL") { provider.authorizationEndpoint = authorize }
        if let token = try url("CLAUDE_AGENT_TOKEN_URL") { provider.tokenEndpoint = token }
        if let revocation = try url("CLAUDE_AGENT_REVOCATION_URL") { provider.revocationEndpoint = revocation }
        if let redirect = try url("CLAUDE_AGENT_REDIRECT_URI") { provider.redirectURI = redirect }
        if let manual = try url("CLAUDE_AGENT_MANUAL_REDIRECT_URI") { provider.manualRedirectURI = manual }
        if let text = value("CLAUDE_AGENT_SCOPES") {
            let scopes = Scopes.parse(text)
            if let invalid = scopes.first(where: { !Scopes.isValid($0) }) {
                throw reader.error("CLAUDE_AGENT_SCOPES", "\"\(invalid)\" is not a valid OAuth scope token")
            }
            provider.scopes = scopes
        }
        if let secret = value("CLAUDE_AGENT_CLIENT_SECRET") { provider.clientSecret = secret }
        if let text = value("CLAUDE_AGENT_TOKEN_ENCODING") {
            guard let encoding = TokenRequestEncoding(rawValue: text) else {
                throw reader.error("CLAUDE_AGENT_TOKEN_ENCODING", "must be \"form\" or \"json\", not \"\(text)\"")
            }
            provider.tokenRequestEncoding = encoding
        }
        settings.providers[defaultProvider] = provider
        return settings
    }

    /// The longest provider name, in bytes (ASCII letters, digits, `.`, `_`, `-`): a short
    /// label typed in `--provider` and shown in listings.
    static let maxProviderNameBytes = 64

    static func isValidProviderName(_ name: String) -> Bool {
        (1...maxProviderNameBytes).contains(name.utf8.count) && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}

/// Typed reads of configuration keys, each failure naming the file and the key path.
private struct SettingsReader {
    let file: String

    func error(_ key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, key: key, message: message)
    }

    func rejectUnknownKeys(_ object: JSONObject, known: [String], prefix: String) throws(ConfigurationError) {
        for key in object.keys where !known.contains(key) {
            throw error(prefix + key, "unknown key (known keys: \(known.joined(separator: ", ")))")
        }
    }

    static let providerKeys = ["client_id", "authorize_url", "token_url", "revocation_url", "redirect_uri", "scopes",
                               "scope", "client_secret", "token_request_encoding", "extra_authorize_parameters",
                               "user_agent", "manual_redirect_uri", "headers", "api_url"]

    /// Parameters the agent puts on every authorize URL itself; letting the file set them
    /// too would send them twice.
    static let reservedAuthorizeParameters = ["response_type", "client_id", "redirect_uri", "scope", "state",
                                              "code_challenge", "code_challenge_method"]

    /// One provider's object, on top of `base` (the built-in `claude`, or nil).
    func provider(_ name: String, _ fields: JSONObject, base: ProviderConfiguration?) throws(ConfigurationError) -> ProviderConfiguration {
        let prefix = "providers.\(name)."
        try rejectUnknownKeys(fields, known: Self.providerKeys, prefix: prefix)

        /// A string that may not be null or empty; nil when the key is absent.
        func string(_ key: String) throws(ConfigurationError) -> String? {
            guard let value = fields[key] else { return nil }
            guard let text = value.stringValue else { throw error(prefix + key, "must be a string, not \(value.typeName)") }
            guard !text.isEmpty else { throw error(prefix + key, "must not be empty") }
            return text
        }
        /// `.some(nil)` for an explicit null, which clears a value the base had.
        func nullableString(_ key: String) throws(ConfigurationError) -> String?? {
            guard let value = fields[key] else { return .none }
            if value.isNull { return .some(nil) }
            return .some(try string(key))
        }
        func url(_ key: String) throws(ConfigurationError) -> String? {
            guard let text = try string(key) else { return nil }
            guard ProviderConfiguration.isHTTPURL(text) else { throw error(prefix + key, "must be an http or https URL") }
            return text
        }
        func nullableURL(_ key: String) throws(ConfigurationError) -> String?? {
            guard let value = fields[key] else { return .none }
            if value.isNull { return .some(nil) }
            return .some(try url(key))
        }
        func required(_ value: String?, _ key: String) throws(ConfigurationError) -> String {
            guard let value else {
                throw error(prefix + key, "is required for a provider other than \"claude\"")
            }
            return value
        }

        let clientID = try string("client_id")
        let authorizationEndpoint = try url("authorize_url")
        let tokenEndpoint = try url("token_url")
        var provider: ProviderConfiguration
        if let base {
            provider = base
            provider.name = name
        } else {
            provider = ProviderConfiguration(name: name, clientID: try required(clientID, "client_id"),
                                             authorizationEndpoint: try required(authorizationEndpoint, "authorize_url"),
                                             tokenEndpoint: try required(tokenEndpoint, "token_url"), scopes: [])
        }
        if let clientID { provider.clientID = clientID }
        if let authorizationEndpoint { provider.authorizationEndpoint = authorizationEndpoint }
        if let tokenEndpoint { provider.tokenEndpoint = tokenEndpoint }
        if let revocation = try nullableURL("revocation_url") { provider.revocationEndpoint = revocation }
        if let redirect = try nullableURL("redirect_uri") { provider.redirectURI = redirect }
        if let manual = try nullableURL("manual_redirect_uri") { provider.manualRedirectURI = manual }
        if let api = try nullableURL("api_url") { provider.apiURL = api }
        if let value = fields["headers"] {
            let key = prefix + "headers"
            guard let object = value.objectValue else { throw error(key, "must be an object of strings, not \(value.typeName)") }
            var pairs: [(String, String)] = []
            for (name, item) in object {
                guard let text = item.stringValue else { throw error(key + "." + name, "must be a string, not \(item.typeName)") }
                if let problem = ProviderHeaders.problem(name: name, value: text) { throw error(key + "." + name, problem) }
                pairs.append((name, text))
            }
            provider.headers = pairs
        }
        if let secret = try nullableString("client_secret") { provider.clientSecret = secret }
        if let agent = try string("user_agent") {
            guard agent.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                throw error(prefix + "user_agent", "must not contain control characters")
            }
            provider.userAgent = agent
        }
        if let scopes = try scopes(fields, prefix: prefix) { provider.scopes = scopes }
        if let text = try string("token_request_encoding") {
            guard let encoding = TokenRequestEncoding(rawValue: text) else {
                throw error(prefix + "token_request_encoding", "must be \"form\" or \"json\", not \"\(text)\"")
            }
            provider.tokenRequestEncoding = encoding
        }
        if let value = fields["extra_authorize_parameters"] {
            let key = prefix + "extra_authorize_parameters"
            guard let object = value.objectValue else { throw error(key, "must be an object of strings, not \(value.typeName)") }
            var pairs: [(String, String)] = []
            for (parameter, item) in object {
                guard !Self.reservedAuthorizeParameters.contains(parameter) else {
                    throw error(key + "." + parameter, "is set by the agent itself and cannot be configured")
                }
                guard let text = item.stringValue else { throw error(key + "." + parameter, "must be a string, not \(item.typeName)") }
                pairs.append((parameter, text))
            }
            provider.extraAuthorizeParameters = pairs
        }
        return provider
    }

    /// `scopes` (an array) or `scope` (space-joined), each a valid RFC 6749 scope token.
    func scopes(_ fields: JSONObject, prefix: String) throws(ConfigurationError) -> [String]? {
        let list: [String]
        let key: String
        switch (fields["scopes"], fields["scope"]) {
        case (nil, nil):
            return nil
        case (.some, .some):
            throw error(prefix + "scope", "give either scopes (an array) or scope (a space-joined string), not both")
        case (.some(let value), nil):
            key = prefix + "scopes"
            guard let items = value.arrayValue else { throw error(key, "must be an array of strings, not \(value.typeName)") }
            var strings: [String] = []
            for item in items {
                guard let text = item.stringValue else { throw error(key, "must be an array of strings, but holds \(item.typeName)") }
                strings.append(text)
            }
            list = Scopes.normalize(strings)
        case (nil, .some(let value)):
            key = prefix + "scope"
            guard let text = value.stringValue else { throw error(key, "must be a space-joined string, not \(value.typeName)") }
            list = Scopes.parse(text)
        }
        if let invalid = list.first(where: { !Scopes.isValid($0) }) {
            throw error(key, "\"\(invalid)\" is not a valid OAuth scope token")
        }
        return list
    }
}
