//! get_token against the built agent over its real socket, and against the real bridge
//! (`claude-agent bridge`) as the fallback, situation by situation (contrib/README.md).
//! Binaries come from CLAUDE_AGENT_BIN_DIR, else the repository's .build/debug.

use claude_agent_client::json::Json;
use claude_agent_client::{get_token, AgentConnection, AgentError, AuthClientError, ClientConfig};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

const POLL: Duration = Duration::from_millis(20);
const POLL_ATTEMPTS: usize = 500; // 10 s in all: every wait is bounded

fn binaries() -> PathBuf {
    let dir = std::env::var_os("CLAUDE_AGENT_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../.build/debug"));
    for name in ["claude-agentd", "claude-agent"] {
        assert!(dir.join(name).is_file(), "{} is missing: run `swift build` first (or set CLAUDE_AGENT_BIN_DIR)", dir.join(name).display());
    }
    dir
}

fn wait_until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    for _ in 0..POLL_ATTEMPTS {
        if let Some(value) = probe() {
            return value;
        }
        thread::sleep(POLL);
    }
    panic!("gave up waiting for {what}");
}

struct Agent {
    dir: PathBuf,
    socket: PathBuf,
    child: Child,
    bridge: Option<Child>,
}

impl Agent {
    fn start() -> Agent {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("claude-agent-rs-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst)));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let socket = dir.join("claude-agent").join("agent.sock");
        let log = std::fs::File::create(dir.join("agent.log")).unwrap();
        let child = Command::new(binaries().join("claude-agentd"))
            .env("XDG_RUNTIME_DIR", &dir)
            .env_remove("CLAUDE_AGENT_SOCK")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut agent = Agent { dir, socket, child, bridge: None };
        let socket = agent.socket.clone();
        // The socket file appears at bind(2), before listen(2): wait until a connect succeeds.
        wait_until("the agent's socket", || std::os::unix::net::UnixStream::connect(&socket).ok().map(|_| ()));
        assert!(agent.child.try_wait().unwrap().is_none(), "claude-agentd exited");
        agent
    }

    fn call(&self, op: &str, fields: Vec<(&str, Json)>) -> Result<Json, AgentError> {
        let mut connection = AgentConnection::connect(&self.socket)?;
        connection.call(op, fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), Duration::from_secs(30))
    }

    fn add(&self, name: &str, token: &str, mut fields: Vec<(&str, Json)>) {
        fields.push(("account", Json::from(name)));
        fields.push(("access_token", Json::from(token)));
        self.call("account.add", fields).unwrap();
    }

    /// The first live token request, once there is one.
    fn pending_request(&self) -> String {
        wait_until("a pending request", || {
            let list = self.call("request.list", vec![]).unwrap();
            list.get("requests")?.as_array()?.first()?.get("request_id")?.as_str().map(str::to_string)
        })
    }

    /// Starts `claude-agent bridge` on a free loopback port; returns its URL.
    fn start_bridge(&mut self) -> String {
        let mut child = Command::new(binaries().join("claude-agent"))
            .args(["bridge", "--listen", "127.0.0.1:0", "-a"])
            .arg(&self.socket)
            .env("XDG_RUNTIME_DIR", &self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        self.bridge = Some(child);
        for line in lines.by_ref().take(20) {
            let line = line.unwrap();
            if let Some(url) = line.strip_prefix("Bridge listening on ") {
                let url = url.trim().to_string();
                thread::spawn(move || for _ in lines {}); // keep draining its log
                return url;
            }
        }
        panic!("the bridge did not say where it listens");
    }

    fn config(&self) -> ClientConfig {
        ClientConfig {
            router_base_url: "http://127.0.0.1:9".to_string(),
            router_fallback: false,
            client_name: "rust-test".to_string(),
            hostname: "test-host".to_string(),
            cache_path: None,
            poll_interval: Duration::from_millis(50),
            max_wait: Duration::from_secs(60),
            socket_path: self.socket.clone(),
            account: None,
            wait: false,
        }
    }

    /// A configuration that finds no agent and falls back to the bridge at `url`.
    fn fallback_config(&self, url: &str) -> ClientConfig {
        ClientConfig { router_base_url: url.to_string(), router_fallback: true, socket_path: self.dir.join("absent.sock"), wait: true, ..self.config() }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut bridge) = self.bridge.take() {
            let _ = Command::new("kill").arg("-TERM").arg(bridge.id().to_string()).status();
            let _ = bridge.wait();
        }
        let _ = self.call("agent.stop", vec![]);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn router_code(result: Result<claude_agent_client::TokenBundle, AuthClientError>) -> String {
    match result {
        Err(error @ AuthClientError::Router(_)) => error.code().to_string(),
        other => panic!("expected a Router error, got {other:?}"),
    }
}

fn scopes(list: &str) -> Json {
    Json::from(list)
}

#[test]
fn happy_path() {
    let agent = Agent::start();
    // A refresh token ties the account to the default provider, whose headers come along.
    agent.add("work", "tok-work", vec![("expires_in", Json::Int(3600)), ("scope", scopes("user:inference user:profile")), ("account_id", Json::Int(3)), ("refresh_token", Json::from("rt-work"))]);
    let raw = agent.call("token.get", vec![]).unwrap();
    let token = get_token(&agent.config(), &["user:inference"]).unwrap();
    assert_eq!(token.access_token, "tok-work");
    assert_eq!(token.refresh_token, None);
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.scope.as_deref(), Some("user:inference user:profile"));
    assert_eq!((token.account.as_deref(), token.account_id), (Some("work"), Some(3)));
    assert!(token.expires_at.as_deref().unwrap().ends_with('Z'));
    let expected: Vec<(String, String)> = raw
        .get("headers")
        .and_then(Json::as_object)
        .map(|members| members.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect())
        .unwrap_or_default();
    assert_eq!(token.headers, expected);
    let by_id = get_token(&ClientConfig { account: Some("3".into()), ..agent.config() }, &[]).unwrap();
    assert_eq!(by_id.access_token, "tok-work");
}

#[test]
fn no_agent() {
    let agent = Agent::start();
    let config = ClientConfig { socket_path: agent.dir.join("absent.sock"), ..agent.config() };
    match get_token(&config, &[]) {
        Err(AuthClientError::Http(why)) => assert!(why.contains("no agent at"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn locked() {
    let agent = Agent::start();
    agent.add("work", "tok-work", vec![("expires_in", Json::Int(3600))]);
    agent.call("agent.lock", vec![("passphrase", Json::from("pw"))]).unwrap();
    assert_eq!(router_code(get_token(&agent.config(), &[])), "locked");
    agent.call("agent.unlock", vec![("passphrase", Json::from("pw"))]).unwrap();
    assert_eq!(get_token(&agent.config(), &[]).unwrap().access_token, "tok-work");
}

#[test]
fn no_token_and_unknown_account() {
    let agent = Agent::start();
    assert_eq!(router_code(get_token(&agent.config(), &["user:inference"])), "no_token");
    let config = ClientConfig { account: Some("nobody".into()), ..agent.config() };
    assert_eq!(router_code(get_token(&config, &[])), "not_found");
}

#[test]
fn expired_without_refresh() {
    let agent = Agent::start();
    // Within the agent's expiry skew (60 s) and without a refresh token, it could never be
    // handed out: the agent refuses to add it, `expired` (Protocol.md, account.add).
    let fields = vec![("account", Json::from("old")), ("access_token", Json::from("tok-old")), ("expires_in", Json::Int(30))];
    match agent.call("account.add", fields) {
        Err(error) => {
            assert_eq!(error.code, "expired");
            assert!(!error.to_string().contains("tok-old"));
        }
        Ok(token) => panic!("got {token:?}"),
    }
}

#[test]
fn timeout_while_waiting() {
    let agent = Agent::start();
    let config = ClientConfig { wait: true, max_wait: Duration::from_secs(1), ..agent.config() };
    assert_eq!(get_token(&config, &["user:inference"]), Err(AuthClientError::Timeout));
}

#[test]
fn denied_while_waiting() {
    let agent = Agent::start();
    // The longest wait there is: its deadline must still be one the agent takes.
    let config = ClientConfig { wait: true, max_wait: Duration::from_secs(3600), ..agent.config() };
    let waiter = thread::spawn(move || get_token(&config, &["user:inference"]));
    let id = agent.pending_request();
    agent.call("request.deny", vec![("request_id", Json::from(id.as_str()))]).unwrap();
    assert_eq!(waiter.join().unwrap(), Err(AuthClientError::Denied));
}

#[test]
fn approved_while_waiting_blocks_instead_of_polling() {
    let agent = Agent::start();
    let config = ClientConfig { wait: true, ..agent.config() };
    let waiter = thread::spawn(move || get_token(&config, &["user:admin"]));
    let id = agent.pending_request();
    let request = agent.call("request.get", vec![("request_id", Json::from(id.as_str()))]).unwrap();
    assert_eq!(request.get("client_name").and_then(Json::as_str), Some("rust-test"));
    assert_eq!(request.get("hostname").and_then(Json::as_str), Some("test-host"));
    agent.add("admin", "tok-admin", vec![("expires_in", Json::Int(3600)), ("scope", scopes("user:admin")), ("account_id", Json::Int(4))]);
    agent.call("request.select_account", vec![("request_id", Json::from(id.as_str())), ("account", Json::Int(4))]).unwrap();
    assert_eq!(waiter.join().unwrap().unwrap().access_token, "tok-admin");
}

#[test]
fn bridge_fallback_approval() {
    let mut agent = Agent::start();
    let url = agent.start_bridge();
    let config = agent.fallback_config(&url);
    let waiter = thread::spawn(move || get_token(&config, &["user:inference"]));
    let id = agent.pending_request();
    let request = agent.call("request.get", vec![("request_id", Json::from(id.as_str()))]).unwrap();
    assert_eq!(request.get("client_name").and_then(Json::as_str), Some("rust-test"));
    agent.add("work", "tok-work", vec![("expires_in", Json::Int(3600)), ("scope", scopes("user:inference")), ("account_id", Json::Int(3))]);
    agent.call("request.select_account", vec![("request_id", Json::from(id.as_str())), ("account", Json::Int(3))]).unwrap();
    let token = waiter.join().unwrap().unwrap();
    assert_eq!(token.access_token, "tok-work");
    assert_eq!(token.refresh_token, None);
    assert_eq!(token.scope.as_deref(), Some("user:inference"));
}

#[test]
fn bridge_fallback_denied_and_timeout() {
    let mut agent = Agent::start();
    let url = agent.start_bridge();
    let config = agent.fallback_config(&url);
    let waiter = thread::spawn(move || get_token(&config, &["user:inference"]));
    let id = agent.pending_request();
    agent.call("request.deny", vec![("request_id", Json::from(id.as_str()))]).unwrap();
    assert_eq!(waiter.join().unwrap(), Err(AuthClientError::Denied));
    let config = ClientConfig { max_wait: Duration::from_millis(300), ..agent.fallback_config(&url) };
    assert_eq!(get_token(&config, &["user:inference"]), Err(AuthClientError::Timeout));
}

#[test]
fn no_fallback_while_the_agent_answers() {
    let agent = Agent::start();
    agent.add("work", "tok-work", vec![("expires_in", Json::Int(3600))]);
    // A router URL where nothing listens: the agent answers, so it is never tried.
    let config = ClientConfig { router_fallback: true, ..agent.config() };
    assert_eq!(get_token(&config, &[]).unwrap().access_token, "tok-work");
    let nowhere = ClientConfig { socket_path: agent.dir.join("absent.sock"), ..config };
    assert!(matches!(get_token(&nowhere, &[]), Err(AuthClientError::Http(_))));
}

#[test]
fn agent_codes_map_onto_the_original_errors() {
    let cases = [
        ("denied", "denied"), ("cancelled", "denied"), ("timeout", "timeout"), ("agent_not_running", "http"),
        ("io", "http"), ("busy", "http"), ("locked", "locked"), ("rotation_lost", "rotation_lost"),
        ("a_code_from_the_future", "a_code_from_the_future"),
    ];
    for (code, mapped) in cases {
        let error = AuthClientError::from(AgentError::new(code, "why"));
        assert_eq!(error.code(), mapped, "{code}");
    }
    assert_eq!(AuthClientError::from(AgentError::new("locked", "the agent is locked")).to_string(), "Router returned error: locked: the agent is locked");
}

/// The only test that touches the process environment.
#[test]
fn config_from_the_environment() {
    std::env::remove_var("CLAUDE_ROUTER_URL");
    std::env::set_var("CLAUDE_CLIENT_NAME", "my-cli");
    std::env::set_var("CLAUDE_AGENT_SOCK", "/run/elsewhere/agent.sock");
    let config = ClientConfig::from_env_defaults().unwrap();
    assert_eq!((config.router_base_url.as_str(), config.router_fallback), ("http://127.0.0.1:7777", false));
    assert_eq!(config.client_name, "my-cli");
    assert_eq!(config.socket_path, PathBuf::from("/run/elsewhere/agent.sock"));
    assert!(config.wait);
    std::env::set_var("CLAUDE_ROUTER_URL", "http://127.0.0.1:7788");
    let config = ClientConfig::from_env_defaults().unwrap();
    assert_eq!((config.router_base_url.as_str(), config.router_fallback), ("http://127.0.0.1:7788", true));
    std::env::set_var("CLAUDE_ROUTER_URL", "http://router.example.com:7777");
    assert!(matches!(ClientConfig::from_env_defaults(), Err(AuthClientError::Config(_))));
    std::env::remove_var("CLAUDE_ROUTER_URL");
    std::env::remove_var("CLAUDE_CLIENT_NAME");
    std::env::remove_var("CLAUDE_AGENT_SOCK");
}
