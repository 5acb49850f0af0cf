import AgentCore
import AgentProtocol
import OAuth
import Testing

@Suite("Provider configuration")
struct ProviderConfigurationTests {
    static let path = "/home/u/.config/claude-agent/config.json"

    static func parse(_ text: String) throws(ConfigurationError) -> AgentSettings {
        try AgentSettings.parse(Array(text.utf8), path: path)
    }

    /// The error a configuration text raises; fails the test when it parses.
    static func error(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigurationError? {
        do {
            let settings = try parse(text)
            Issue.record("parsed, but should not have: \(settings)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    static let testProvider = """
        "client_id": "test-client", "authorize_url": "http://127.0.0.1:8000/o/authorize/",
        "token_url": "http://127.0.0.1:8000/o/token/"
        """

    @Test("the built-in Claude provider is what Claude Code uses")
    func builtInClaude() {
        let claude = ProviderConfiguration.claude
        #expect(claude.name == "claude")
        #expect(claude.clientID == "9d1c250a-e61b-44d9-88ed-5944d1962f5e")
        #expect(claude.authorizationEndpoint == "https://claude.com/cai/oauth/authorize")
        #expect(claude.tokenEndpoint == "https://platform.claude.com/v1/oauth/token")
        #expect(claude.revocationEndpoint == nil)
        #expect(claude.redirectURI == "http://localhost/callback")
        #expect(LoopbackRedirect(claude.redirectURI ?? "") == LoopbackRedirect(host: "localhost", port: nil, path: "/callback"))
        #expect(claude.manualRedirectURI == "https://platform.claude.com/oauth/code/callback")
        #expect(claude.scopes == ["org:create_api_key", "user:profile", "user:inference", "user:sessions:claude_code",
                                  "user:mcp_servers", "user:file_upload"])
        #expect(claude.headers.map(\.0) == ["anthropic-beta"])
        #expect(claude.headers.map(\.1) == ["oauth-2025-04-20"])
        #expect(claude.clientSecret == nil)
        #expect(claude.tokenRequestEncoding == .json)
        #expect(claude.extraAuthorizeParameters.map(\.0) == ["code"])
        #expect(claude.extraAuthorizeParameters.map(\.1) == ["true"])
        #expect(claude.userAgent == "claude-agent/\(agentVersion)")
    }

    @Test("the built-in settings hold Claude only, as the default, and the control browser on port 7780")
    func builtInSettings() {
        let settings = AgentSettings.builtIn
        #expect(Array(settings.providers.keys) == ["claude"])
        #expect(settings.defaultProvider == "claude")
        #expect(settings.controlBrowserURL == "http://127.0.0.1:7780")
        #expect(settings.provider(named: nil) == .claude)
        #expect(settings.provider(named: "claude") == .claude)
        #expect(settings.provider(named: "other") == nil)
    }

    @Test("an empty object yields the built-in settings")
    func emptyFile() throws {
        #expect(try Self.parse("{}") == .builtIn)
    }

    @Test("refresh_timeout_seconds sets each token endpoint attempt's time-out; absent, the agent's default applies")
    func refreshTimeout() throws {
        #expect(try Self.parse("{\"refresh_timeout_seconds\": 45}").refreshTimeoutSeconds == 45)
        #expect(try Self.parse("{}").refreshTimeoutSeconds == 30)
    }

    @Test("api_url: Claude's API built in, set per provider, null clears it, and it must be an http(s) URL")
    func apiURL() throws {
        #expect(AgentSettings.builtIn.provider(named: "claude")?.apiURL == "https://api.anthropic.com")
        let set = try Self.parse(#"{"providers": {"claude": {"api_url": "http://127.0.0.1:8080"}}}"#)
        #expect(set.provider(named: "claude")?.apiURL == "http://127.0.0.1:8080")
        let cleared = try Self.parse(#"{"providers": {"claude": {"api_url": null}}}"#)
        #expect(cleared.provider(named: "claude")?.apiURL == nil)
        #expect(Self.error(#"{"providers": {"claude": {"api_url": "ftp://x"}}}"#) != nil)
    }

    @Test("a full file sets every key of a new provider, in order where order matters")
    func fullFile() throws {
        let settings = try Self.parse("""
            {"default_provider": "test", "control_browser_url": "http://127.0.0.1:9999",
             "providers": {"test": {"client_id": "abc", "authorize_url": "https://auth.example/o/authorize/",
                                    "token_url": "https://auth.example/o/token/",
                                    "revocation_url": "https://auth.example/o/revoke_token/",
                                    "redirect_uri": "http://127.0.0.1:8765/callback",
                                    "scopes": ["read", "write", "read"], "client_secret": "s3cret",
                                    "token_request_encoding": "form",
                                    "extra_authorize_parameters": {"prompt": "login", "audience": "api"},
                                    "user_agent": "tester/1.0"}}}
            """)
        #expect(settings.defaultProvider == "test")
        #expect(settings.controlBrowserURL == "http://127.0.0.1:9999")
        #expect(Set(settings.providers.keys) == ["claude", "test"])
        #expect(settings.providers["claude"] == .claude)
        let expected = ProviderConfiguration(
            name: "test", clientID: "abc", authorizationEndpoint: "https://auth.example/o/authorize/",
            tokenEndpoint: "https://auth.example/o/token/", revocationEndpoint: "https://auth.example/o/revoke_token/",
            redirectURI: "http://127.0.0.1:8765/callback", scopes: ["read", "write"], clientSecret: "s3cret",
            tokenRequestEncoding: .form, extraAuthorizeParameters: [("prompt", "login"), ("audience", "api")],
            userAgent: "tester/1.0")
        #expect(settings.provider(named: nil) == expected)
        #expect(settings.provider(named: "test") == expected)
    }

    @Test("a new provider gets defaults for every optional key")
    func minimalProvider() throws {
        let settings = try Self.parse("{\"providers\": {\"test\": {\(Self.testProvider)}}}")
        let test = try #require(settings.providers["test"])
        #expect(test == ProviderConfiguration(name: "test", clientID: "test-client",
                                              authorizationEndpoint: "http://127.0.0.1:8000/o/authorize/",
                                              tokenEndpoint: "http://127.0.0.1:8000/o/token/", scopes: []))
        #expect(test.tokenRequestEncoding == .form)
        #expect(test.userAgent == "claude-agent/\(agentVersion)")
        #expect(settings.defaultProvider == "claude")
    }

    @Test("scopes may be given as one space-joined scope string")
    func scopeString() throws {
        let settings = try Self.parse("{\"providers\": {\"test\": {\(Self.testProvider), \"scope\": \"read  write read\"}}}")
        #expect(settings.providers["test"]?.scopes == ["read", "write"])
    }

    @Test("a claude provider in the file starts from the built-in one and overrides only the keys given")
    func claudeOverride() throws {
        let settings = try Self.parse("""
            {"providers": {"claude": {"token_url": "https://console.anthropic.com/v1/oauth/token",
                                      "revocation_url": "https://claude.example/revoke",
                                      "extra_authorize_parameters": {}}}}
            """)
        var expected = ProviderConfiguration.claude
        expected.tokenEndpoint = "https://console.anthropic.com/v1/oauth/token"
        expected.revocationEndpoint = "https://claude.example/revoke"
        expected.extraAuthorizeParameters = []
        #expect(settings.providers["claude"] == expected)
        #expect(settings.providers.count == 1)
    }

    @Test("null clears an optional value the built-in provider had")
    func nullClears() throws {
        let withSecret = try Self.parse("{\"providers\": {\"claude\": {\"client_secret\": \"x\"}}}")
        #expect(withSecret.providers["claude"]?.clientSecret == "x")
        let cleared = try Self.parse("{\"providers\": {\"claude\": {\"client_secret\": null, \"redirect_uri\": null}}}")
        var expected = ProviderConfiguration.claude
        expected.redirectURI = nil
        #expect(cleared.providers["claude"] == expected)
    }

    @Test("environment variables override the default provider and the control browser")
    func environmentOverrides() throws {
        let settings = try AgentSettings.builtIn.applyingEnvironment([
            "CLAUDE_AGENT_CLIENT_ID": "env-client",
            "CLAUDE_AGENT_AUTHORIZE_URL": "http://127.0.0.1:1/authorize",
            "CLAUDE_AGENT_TOKEN_URL": "http://127.0.0.1:1/token",
            "CLAUDE_AGENT_REVOCATION_URL": "http://127.0.0.1:1/revoke",
            "CLAUDE_AGENT_REDIRECT_URI": "http://127.0.0.1:2/callback",
            "CLAUDE_AGENT_SCOPES": "a b  a",
            "CLAUDE_AGENT_CLIENT_SECRET": "env-secret",
            "CLAUDE_AGENT_TOKEN_ENCODING": "form",
            "CLAUDE_AGENT_CONTROL_BROWSER_URL": "http://127.0.0.1:3",
            "HOME": "/home/u",
        ])
        let expected = ProviderConfiguration(
            name: "claude", clientID: "env-client", authorizationEndpoint: "http://127.0.0.1:1/authorize",
            tokenEndpoint: "http://127.0.0.1:1/token", revocationEndpoint: "http://127.0.0.1:1/revoke",
            redirectURI: "http://127.0.0.1:2/callback", manualRedirectURI: "https://platform.claude.com/oauth/code/callback",
            scopes: ["a", "b"], clientSecret: "env-secret",
            tokenRequestEncoding: .form, extraAuthorizeParameters: [("code", "true")],
            headers: [("anthropic-beta", "oauth-2025-04-20")], apiURL: "https://api.anthropic.com")
        #expect(settings.providers["claude"] == expected)
        #expect(settings.controlBrowserURL == "http://127.0.0.1:3")
    }

    @Test("environment overrides apply to the configured default provider only; empty variables count as unset")
    func environmentTargetsDefault() throws {
        let file = try Self.parse("{\"default_provider\": \"test\", \"providers\": {\"test\": {\(Self.testProvider)}}}")
        let settings = try file.applyingEnvironment(["CLAUDE_AGENT_TOKEN_URL": "https://moved.example/token",
                                                     "CLAUDE_AGENT_CLIENT_ID": ""])
        #expect(settings.providers["test"]?.tokenEndpoint == "https://moved.example/token")
        #expect(settings.providers["test"]?.clientID == "test-client")
        #expect(settings.providers["claude"] == .claude)
        #expect(try AgentSettings.builtIn.applyingEnvironment([:]) == .builtIn)
    }

    @Test("a bad environment variable names the environment and the variable")
    func environmentErrors() {
        let cases: [(String, String, String)] = [
            ("CLAUDE_AGENT_TOKEN_URL", "ftp://x/token", "environment: CLAUDE_AGENT_TOKEN_URL: must be an http or https URL"),
            ("CLAUDE_AGENT_TOKEN_ENCODING", "xml",
             "environment: CLAUDE_AGENT_TOKEN_ENCODING: must be \"form\" or \"json\", not \"xml\""),
            ("CLAUDE_AGENT_CONTROL_BROWSER_URL", "127.0.0.1:7780",
             "environment: CLAUDE_AGENT_CONTROL_BROWSER_URL: must be an http or https URL"),
            ("CLAUDE_AGENT_SCOPES", "a \"b\"", "environment: CLAUDE_AGENT_SCOPES: \"\"b\"\" is not a valid OAuth scope token"),
        ]
        for (name, value, text) in cases {
            #expect(throws: ConfigurationError.self) { try AgentSettings.builtIn.applyingEnvironment([name: value]) }
            do {
                _ = try AgentSettings.builtIn.applyingEnvironment([name: value])
            } catch {
                #expect(error.file == "environment")
                #expect(error.key == name)
                #expect(error.description == text)
            }
        }
    }

    @Test("every file error names the file and the key path", arguments: [
        ("{\"default_provder\": \"claude\"}", "default_provder",
         "unknown key (known keys: default_provider, control_browser_url, providers, refresh_timeout_seconds)"),
        ("{\"refresh_timeout_seconds\": 0}", "refresh_timeout_seconds", "must be a whole number of seconds from 1 to 600"),
        ("{\"refresh_timeout_seconds\": \"30\"}", "refresh_timeout_seconds", "must be a whole number of seconds from 1 to 600"),
        ("{\"refresh_timeout_seconds\": 601}", "refresh_timeout_seconds", "must be a whole number of seconds from 1 to 600"),
        ("{\"providers\": {\"test\": {\(ProviderConfigurationTests.testProvider), \"token_uri\": \"http://x\"}}}", "providers.test.token_uri",
         "unknown key (known keys: client_id, authorize_url, token_url, revocation_url, redirect_uri, scopes, scope, "
             + "client_secret, token_request_encoding, extra_authorize_parameters, user_agent, manual_redirect_uri, headers, api_url)"),
        ("{\"providers\": {\"test\": {\"client_id\": \"a\", \"authorize_url\": \"http://a/\", \"token_url\": \"a.example/token\"}}}",
         "providers.test.token_url", "must be an http or https URL"),
        ("{\"providers\": {\"claude\": {\"authorize_url\": \"https:///path\"}}}", "providers.claude.authorize_url",
         "must be an http or https URL"),
        ("{\"providers\": {\"claude\": {\"revocation_url\": \"https://a b/\"}}}", "providers.claude.revocation_url",
         "must be an http or https URL"),
        ("{\"control_browser_url\": \"localhost:7780\"}", "control_browser_url", "must be an http or https URL"),
        ("{\"providers\": {\"test\": {\(ProviderConfigurationTests.testProvider), \"token_request_encoding\": \"xml\"}}}",
         "providers.test.token_request_encoding", "must be \"form\" or \"json\", not \"xml\""),
        ("{\"providers\": {\"test\": {\"client_id\": \"a\", \"authorize_url\": \"http://a/\"}}}",
         "providers.test.token_url", "is required for a provider other than \"claude\""),
        ("{\"providers\": {\"test\": {\"authorize_url\": \"http://a/\", \"token_url\": \"http://a/\"}}}",
         "providers.test.client_id", "is required for a provider other than \"claude\""),
        ("{\"default_provider\": \"x\"}", "default_provider", "no provider named \"x\""),
        ("{\"default_provider\": 3}", "default_provider", "must be a string, not integer"),
        ("{\"providers\": []}", "providers", "must be an object, not array"),
        ("{\"providers\": {\"test\": \"http://a/\"}}", "providers.test", "must be an object, not string"),
        ("{\"providers\": {\"a b\": {}}}", "providers.a b",
         "a provider name is 1 to 64 letters, digits, \".\", \"_\" or \"-\""),
        ("{\"providers\": {\"claude\": {\"client_id\": \"\"}}}", "providers.claude.client_id", "must not be empty"),
        ("{\"providers\": {\"claude\": {\"client_id\": null}}}", "providers.claude.client_id", "must be a string, not null"),
        ("{\"providers\": {\"claude\": {\"scopes\": \"a b\"}}}", "providers.claude.scopes",
         "must be an array of strings, not string"),
        ("{\"providers\": {\"claude\": {\"scopes\": [\"a\", 1]}}}", "providers.claude.scopes",
         "must be an array of strings, but holds integer"),
        ("{\"providers\": {\"claude\": {\"scopes\": [\"a\\\\b\"]}}}", "providers.claude.scopes",
         "\"a\\b\" is not a valid OAuth scope token"),
        ("{\"providers\": {\"claude\": {\"scopes\": [\"a\"], \"scope\": \"a\"}}}", "providers.claude.scope",
         "give either scopes (an array) or scope (a space-joined string), not both"),
        ("{\"providers\": {\"claude\": {\"extra_authorize_parameters\": {\"state\": \"x\"}}}}",
         "providers.claude.extra_authorize_parameters.state", "is set by the agent itself and cannot be configured"),
        ("{\"providers\": {\"claude\": {\"extra_authorize_parameters\": {\"code\": true}}}}",
         "providers.claude.extra_authorize_parameters.code", "must be a string, not boolean"),
        ("{\"providers\": {\"claude\": {\"extra_authorize_parameters\": [\"code\"]}}}",
         "providers.claude.extra_authorize_parameters", "must be an object of strings, not array"),
        ("{\"providers\": {\"claude\": {\"user_agent\": \"a\\nX-Injected: 1\"}}}", "providers.claude.user_agent",
         "must not contain control characters"),
    ])
    func fileErrors(text: String, key: String, message: String) throws {
        let error = try #require(Self.error(text))
        #expect(error.file == Self.path && error.key == key && error.message == message)
        #expect(error.description == "\(Self.path): \(key): \(message)")
    }

    @Test("a file that is not a JSON object names the file")
    func notAnObject() throws {
        let array = try #require(Self.error("[1, 2]"))
        #expect(array.file == Self.path)
        #expect(array.key == "")
        #expect(array.description == "\(Self.path): must hold a JSON object, not array")
        let broken = try #require(Self.error("{\"providers\": "))
        #expect(broken.description.hasPrefix("\(Self.path): not valid JSON"))
        let duplicate = try #require(Self.error("{\"providers\": {}, \"providers\": {}}"))
        #expect(duplicate.description.contains("duplicate key"))
    }

    @Test("the description never shows the client secret")
    func descriptionHidesSecret() {
        var provider = ProviderConfiguration.claude
        provider.clientSecret = "very-secret-value"
        #expect(!provider.description.contains("very-secret-value"))
        #expect(provider.description.contains("clientSecret: set"))
    }

    @Test("http and https URLs with a host are accepted, and nothing else", arguments: [
        ("http://127.0.0.1:8000/o/token/", true), ("https://platform.claude.com/v1/oauth/token", true),
        ("https://h", true), ("HTTP://h/", false), ("ftp://h/", false), ("https://", false), ("https:///x", false),
        ("https://h/a b", false), ("h/x", false), ("", false), ("http://:80/", false),
    ])
    func urlCheck(url: String, valid: Bool) {
        #expect(ProviderConfiguration.isHTTPURL(url) == valid)
    }

    @Test("headers and manual_redirect_uri are read from the file, and bad headers name the key")
    func headersAndManualRedirect() throws {
        let settings = try Self.parse("""
            {"providers": {"test": {\(Self.testProvider), "headers": {"x-tenant": "a b", "anthropic-beta": "x"},
              "manual_redirect_uri": "https://sso.example/code"}}}
            """)
        let test = try #require(settings.providers["test"])
        #expect(test.headers.map(\.0) == ["x-tenant", "anthropic-beta"])
        #expect(test.headers.map(\.1) == ["a b", "x"])
        #expect(test.manualRedirectURI == "https://sso.example/code")
        for (headers, key) in [("{\"Authorization\": \"x\"}", "Authorization"), ("{\"a b\": \"x\"}", "a b"),
                               ("{\"x\": \"a\\r\\nInjected: 1\"}", "x"), ("{\"x\": 1}", "x")] {
            let error = try #require(Self.error("{\"providers\": {\"claude\": {\"headers\": \(headers)}}}"))
            #expect(error.key == "providers.claude.headers.\(key)")
        }
    }
}
