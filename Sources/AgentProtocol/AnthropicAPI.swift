/// The Anthropic API, where the built-in `claude` provider's tokens are used.
public enum AnthropicAPI {
    /// The API's base URL: the `claude` provider's `api_url`, and the endpoint's upstream
    /// when it is told none.
    public static let baseURL = "https://api.anthropic.com"
}
