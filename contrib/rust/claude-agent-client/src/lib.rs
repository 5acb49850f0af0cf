//! The original design's `claude-auth-client` API over claude-agent's socket.
//!
//! Speaks version 1 of Protocol.md. A tool written against the original auth router keeps
//! its code: `get_token(&ClientConfig::from_env_defaults()?, &["user:inference"])` now asks
//! the agent (`token.get`), and blocks in the agent (`wait`) until a person approves when no
//! token is held, instead of polling. When no agent socket answers and `CLAUDE_ROUTER_URL`
//! is set, it talks to the bridge's HTTP API (Bridge.md) as it talked to the router.
//!
//! No local cache: the agent is the cache (it refreshes, and never hands out an expired token).
//! Standard library only, so it builds with `cargo build --offline`.

pub mod json;
pub mod socket;
mod bridge;

use json::Json;
pub use socket::{default_socket_path, AgentConnection, AgentError};
use std::path::PathBuf;
use std::time::Duration;

/// The version of Protocol.md this crate speaks.
pub const PROTOCOL_VERSION: i64 = 1;

/// Protocol.md: `token.get` with `wait` takes 1 to 3600 seconds.
const MAX_WAIT_SECONDS: u64 = 3600;
/// The largest `timeout_ms` the agent takes (1 to 3,600,000).
const MAX_TIMEOUT_MILLISECONDS: u64 = 3_600_000;

/// A token as the original router's `TokenBundle`, plus what the agent adds.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenBundle {
    pub access_token: String,
    /// Always `None`: the refresh token never leaves the agent.
    pub refresh_token: Option<String>,
    /// RFC 3339 in UTC (`2026-11-23T16:00:00Z`), or `None` when the provider stated none.
    pub expires_at: Option<String>,
    pub token_type: String,
    /// The scopes, space-joined as OAuth writes them.
    pub scope: Option<String>,
    /// The account that holds the token (socket only; `None` over the bridge).
    pub account: Option<String>,
    pub account_id: Option<u32>,
    /// The HTTP headers the provider's tokens need besides `Authorization` (socket only).
    pub headers: Vec<(String, String)>,
}

impl TokenBundle {
    /// From a `token.get` result (Protocol.md).
    fn from_agent_json(result: &Json) -> Result<TokenBundle, AuthClientError> {
        let access_token = result.get("access_token").and_then(Json::as_str).filter(|t| !t.is_empty());
        let access_token = access_token.ok_or_else(|| AuthClientError::Http("parse token.get answer: no access_token".into()))?;
        let headers = match result.get("headers") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Object(members)) => members
                .iter()
                .map(|(name, value)| value.as_str().map(|v| (name.clone(), v.to_string())))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| AuthClientError::Http("parse token.get answer: headers must hold strings".into()))?,
            Some(_) => return Err(AuthClientError::Http("parse token.get answer: headers is not an object".into())),
        };
        Ok(TokenBundle {
            access_token: access_token.to_string(),
            refresh_token: None,
            expires_at: result.get("expires_at").and_then(Json::as_str).map(str::to_string),
            token_type: result.get("token_type").and_then(Json::as_str).unwrap_or("Bearer").to_string(),
            scope: result.get("scopes").and_then(Json::string_array).map(|scopes| scopes.join(" ")),
            account: result.get("account").and_then(Json::as_str).map(str::to_string),
            account_id: result.get("account_id").and_then(Json::as_i64).and_then(|id| u32::try_from(id).ok()),
            headers,
        })
    }

    /// From the bridge's (the original router's) `token` object (Bridge.md).
    fn from_router_json(token: &Json) -> Result<TokenBundle, AuthClientError> {
        let access_token = token.get("access_token").and_then(Json::as_str).filter(|t| !t.is_empty());
        let access_token = access_token.ok_or_else(|| AuthClientError::Http("parse status response: no access_token".into()))?;
        Ok(TokenBundle {
            access_token: access_token.to_string(),
            refresh_token: None,
            expires_at: token.get("expires_at").and_then(Json::as_str).map(str::to_string),
            token_type: token.get("token_type").and_then(Json::as_str).unwrap_or("Bearer").to_string(),
            scope: token.get("scope").and_then(Json::as_str).map(str::to_string),
            account: None,
            account_id: None,
            headers: Vec::new(),
        })
    }
}

/// Errors that can occur while obtaining a token: the original client's, with the agent's
/// codes mapped onto them (contrib/README.md has the table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthClientError {
    /// No agent at the socket (and no bridge fallback), the connection broke, the agent was
    /// busy, or an answer was malformed; over the bridge: any HTTP failure.
    Http(String),
    /// The agent refused: `"<code>: <message>"` with the agent's code (`locked`, `no_token`,
    /// `not_found`, `expired`, `login_required`, `refresh_failed`, `rotation_lost`,
    /// `request_failed`, or a code a newer agent sends). `code()` extracts it.
    Router(String),
    /// A person denied the request, or it was cancelled (`denied`, `cancelled`).
    Denied,
    /// The wait for approval ran out (`timeout`).
    Timeout,
    /// Kept so code matching the original enum compiles; never returned: the agent
    /// replaced the local token cache.
    Cache(String),
    /// The configuration is unusable (a `CLAUDE_ROUTER_URL` that is not loopback HTTP).
    Config(String),
}

impl AuthClientError {
    /// A stable code: the agent's for `Router`, else `http`, `denied`, `timeout`, `cache`, `config`.
    pub fn code(&self) -> &str {
        match self {
            AuthClientError::Http(_) => "http",
            AuthClientError::Router(text) => text.split(": ").next().unwrap_or(text),
            AuthClientError::Denied => "denied",
            AuthClientError::Timeout => "timeout",
            AuthClientError::Cache(_) => "cache",
            AuthClientError::Config(_) => "config",
        }
    }
}

impl std::fmt::Display for AuthClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthClientError::Http(why) => write!(f, "HTTP error: {why}"),
            AuthClientError::Router(why) => write!(f, "Router returned error: {why}"),
            AuthClientError::Denied => write!(f, "Request was denied or cancelled by user"),
            AuthClientError::Timeout => write!(f, "Timed out waiting for authorization"),
            AuthClientError::Cache(why) => write!(f, "Cache error: {why}"),
            AuthClientError::Config(why) => write!(f, "Invalid configuration: {why}"),
        }
    }
}

impl std::error::Error for AuthClientError {}

impl From<AgentError> for AuthClientError {
    fn from(error: AgentError) -> AuthClientError {
        match error.code.as_str() {
            "denied" | "cancelled" => AuthClientError::Denied,
            "timeout" => AuthClientError::Timeout,
            "agent_not_running" | "io" | "busy" | "protocol_violation" => AuthClientError::Http(error.message),
            _ => AuthClientError::Router(error.to_string()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL of the bridge (the original router's address, default "http://127.0.0.1:7777").
    pub router_base_url: String,
    /// Use the bridge when no agent answers at `socket_path` (set when CLAUDE_ROUTER_URL is).
    pub router_fallback: bool,
    /// Logical name of this client (e.g., "dsmil-cli"), shown to approvers.
    pub client_name: String,
    /// Hostname of the machine, shown to approvers.
    pub hostname: String,
    /// Unused: the agent is the cache. Kept so configurations written for the original compile.
    pub cache_path: Option<PathBuf>,
    /// Poll interval when waiting for approval over the bridge (the socket blocks instead).
    pub poll_interval: Duration,
    /// Max time to wait for approval before failing (1 s to 3600 s over the socket).
    pub max_wait: Duration,
    /// The agent's socket (CLAUDE_AGENT_SOCK, else the agent's default path).
    pub socket_path: PathBuf,
    /// Take the token of this account only (a name or numeric id).
    pub account: Option<String>,
    /// Ask a person and wait when no token is held (the original always did); else fail at once.
    pub wait: bool,
}

impl ClientConfig {
    pub fn from_env_defaults() -> Result<Self, AuthClientError> {
        let router = std::env::var("CLAUDE_ROUTER_URL").ok().filter(|url| !url.is_empty());
        let router_fallback = router.is_some();
        let router_base_url = router.unwrap_or_else(|| "http://127.0.0.1:7777".to_string());
        if router_fallback {
            bridge::parse_router_url(&router_base_url)?;
        }
        let client_name = std::env::var("CLAUDE_CLIENT_NAME").unwrap_or_else(|_| "default-cli".to_string());
        let hostname = std::env::var("HOSTNAME")
            .or_else(|_| std::env::var("COMPUTERNAME"))
            .or_else(|_| std::fs::read_to_string("/proc/sys/kernel/hostname").map(|name| name.trim().to_string()))
            .unwrap_or_else(|_| "unknown-host".to_string());
        Ok(Self {
            router_base_url,
            router_fallback,
            client_name,
            hostname,
            cache_path: None,
            poll_interval: Duration::from_secs(2),
            max_wait: Duration::from_secs(300), // 5 minutes
            socket_path: default_socket_path(),
            account: None,
            wait: true,
        })
    }
}

/// High-level API: obtain a valid token for the given scopes.
/// - Asks the agent; with `cfg.wait`, blocks there until a person approves, denies, or
///   `cfg.max_wait` passes.
/// - When no agent answers and `cfg.router_fallback`, goes through the bridge instead.
pub fn get_token(cfg: &ClientConfig, scopes: &[&str]) -> Result<TokenBundle, AuthClientError> {
    let mut connection = match AgentConnection::connect(&cfg.socket_path) {
        Ok(connection) => connection,
        Err(_) if cfg.router_fallback => return bridge::get_token(cfg, scopes),
        Err(error) => return Err(error.into()),
    };
    let wait_seconds = cfg.max_wait.as_secs().clamp(1, MAX_WAIT_SECONDS);
    // Without wait the agent answers at once (or after one refresh); with it, after the wait.
    let deadline = if cfg.wait { Duration::from_secs(wait_seconds + 10) } else { Duration::from_secs(30) };
    let mut fields = vec![
        ("scopes".to_string(), Json::Array(scopes.iter().map(|s| Json::from(*s)).collect())),
        ("client_name".to_string(), Json::from(cfg.client_name.as_str())),
        ("hostname".to_string(), Json::from(cfg.hostname.as_str())),
        ("timeout_ms".to_string(), Json::Int(deadline.as_millis().clamp(1, u128::from(MAX_TIMEOUT_MILLISECONDS)) as i64)),
    ];
    if let Some(account) = &cfg.account {
        let reference = match account.parse::<u32>() {
            Ok(id) if !account.starts_with('+') => Json::Int(i64::from(id)),
            _ => Json::from(account.as_str()),
        };
        fields.push(("account".to_string(), reference));
    }
    if cfg.wait {
        fields.push(("wait".to_string(), Json::Bool(true)));
        fields.push(("timeout".to_string(), Json::Int(wait_seconds as i64)));
    }
    let result = connection.call("token.get", fields, deadline)?;
    TokenBundle::from_agent_json(&result)
}
