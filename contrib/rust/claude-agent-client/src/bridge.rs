//! The bridge's HTTP API (Bridge.md), the original router's: the fallback when no agent
//! socket is reachable but CLAUDE_ROUTER_URL names a bridge. A minimal HTTP/1.1 client:
//! plain HTTP to a loopback address only (the bridge listens on loopback only), one
//! request per connection, `Content-Length` bodies.

use crate::json::Json;
use crate::{AuthClientError, ClientConfig, TokenBundle};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Bridge.md caps its bodies at 64 KiB; anything much larger is not the bridge.
const MAX_ANSWER_BYTES: u64 = 1024 * 1024;
/// How long one HTTP exchange may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// `http://HOST[:PORT][/prefix]` with a loopback host, as (authority, prefix).
pub(crate) fn parse_router_url(url: &str) -> Result<(String, String), AuthClientError> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        AuthClientError::Config(format!("CLAUDE_ROUTER_URL {url:?} must be an http:// URL (the bridge serves plain HTTP on loopback)"))
    })?;
    let (authority, path) = match rest.find('/') {
        Some(index) => (&rest[..index], rest[index..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let host = if authority.starts_with('[') {
        authority.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or("").to_string()
    };
    let loopback = host == "localhost" || host == "[::1]" || {
        let parts: Vec<&str> = host.split('.').collect();
        parts.len() == 4 && parts[0] == "127" && parts.iter().all(|p| p.parse::<u8>().is_ok())
    };
    if !loopback {
        return Err(AuthClientError::Config(format!("CLAUDE_ROUTER_URL {url:?} must name a loopback host (127.0.0.0/8, localhost or [::1])")));
    }
    let authority = if authority.len() > host.len() { authority.to_string() } else { format!("{authority}:80") };
    Ok((authority, path.to_string()))
}

/// One HTTP exchange: returns (status, body as JSON).
fn exchange(cfg: &ClientConfig, method: &str, route: &str, body: Option<&Json>) -> Result<(u16, Json), AuthClientError> {
    let (authority, prefix) = parse_router_url(&cfg.router_base_url)?;
    let address = authority
        .to_socket_addrs()
        .map_err(|e| AuthClientError::Http(format!("resolve {authority}: {e}")))?
        .next()
        .ok_or_else(|| AuthClientError::Http(format!("resolve {authority}: no address")))?;
    let mut stream = TcpStream::connect_timeout(&address, EXCHANGE_TIMEOUT)
        .map_err(|e| AuthClientError::Http(format!("no bridge at {}: {e}", cfg.router_base_url)))?;
    stream.set_read_timeout(Some(EXCHANGE_TIMEOUT)).map_err(http)?;
    stream.set_write_timeout(Some(EXCHANGE_TIMEOUT)).map_err(http)?;
    let payload = body.map(Json::to_json_string).unwrap_or_default();
    let mut request = format!(
        "{method} {prefix}{route} HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n",
        payload.len()
    );
    if body.is_some() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str("\r\n");
    request.push_str(&payload);
    stream.write_all(request.as_bytes()).map_err(http)?;
    let mut answer = Vec::new();
    stream.take(MAX_ANSWER_BYTES).read_to_end(&mut answer).map_err(http)?;
    let text = String::from_utf8(answer).map_err(|_| AuthClientError::Http("the bridge's answer is not UTF-8".into()))?;
    let (head, body) = match text.find("\r\n\r\n") {
        Some(index) => (&text[..index], &text[index + 4..]),
        None => return Err(AuthClientError::Http("the bridge's answer has no header end".into())),
    };
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| AuthClientError::Http("the bridge's answer has no status".into()))?;
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(body.len());
    let body = body.get(..length).ok_or_else(|| AuthClientError::Http("the bridge's answer was cut short".into()))?;
    let json = if body.is_empty() { Json::Null } else { Json::parse(body).unwrap_or(Json::Null) };
    Ok((status, json))
}

fn http(error: std::io::Error) -> AuthClientError {
    AuthClientError::Http(error.to_string())
}

fn refusal(action: &str, status: u16, body: &Json) -> AuthClientError {
    let code = body.get("error").and_then(Json::as_str).unwrap_or("?");
    AuthClientError::Http(format!("router returned {status} ({code}) on {action}"))
}

/// The original router's flow: create a request, then poll its status until it ends or
/// `cfg.max_wait` passes (Bridge.md: no route waits for a person; clients poll).
pub(crate) fn get_token(cfg: &ClientConfig, scopes: &[&str]) -> Result<TokenBundle, AuthClientError> {
    let mut fields = vec![
        ("client_name".to_string(), Json::from(cfg.client_name.as_str())),
        ("hostname".to_string(), Json::from(cfg.hostname.as_str())),
        ("scopes".to_string(), Json::Array(scopes.iter().map(|s| Json::from(*s)).collect())),
    ];
    if let Some(account) = &cfg.account {
        fields.push(("account".to_string(), Json::from(account.as_str())));
    }
    let (status, created) = exchange(cfg, "POST", "/v1/token-requests", Some(&Json::Object(fields)))?;
    if status != 201 {
        return Err(refusal("create", status, &created));
    }
    let request_id = created
        .get("request_id")
        .and_then(Json::as_str)
        .ok_or_else(|| AuthClientError::Http("parse create response: no request_id".into()))?
        .to_string();
    let start = Instant::now();
    loop {
        if start.elapsed() > cfg.max_wait {
            return Err(AuthClientError::Timeout);
        }
        let (status, answer) = exchange(cfg, "GET", &format!("/v1/token-requests/{request_id}/status"), None)?;
        if status != 200 {
            return Err(refusal("status", status, &answer));
        }
        match answer.get("status").and_then(Json::as_str) {
            Some("approved") => {
                let token = answer.get("token").ok_or_else(|| AuthClientError::Router("approved but no token present".into()))?;
                return TokenBundle::from_router_json(token);
            }
            Some("denied") | Some("cancelled") => return Err(AuthClientError::Denied),
            Some("error") => {
                let why = answer.get("error").and_then(Json::as_str).unwrap_or("unknown error");
                return Err(AuthClientError::Router(format!("request_failed: {why}")));
            }
            Some("pending") | Some("in_progress") => {
                let left = cfg.max_wait.checked_sub(start.elapsed()).unwrap_or_default();
                std::thread::sleep(cfg.poll_interval.min(left).max(Duration::from_millis(10)));
            }
            other => return Err(AuthClientError::Http(format!("parse status response: unknown status {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_router_url;

    #[test]
    fn router_urls_are_loopback_http_only() {
        assert_eq!(parse_router_url("http://127.0.0.1:7777").unwrap(), ("127.0.0.1:7777".into(), "".into()));
        assert_eq!(parse_router_url("http://localhost:7777/").unwrap(), ("localhost:7777".into(), "".into()));
        assert_eq!(parse_router_url("http://[::1]:7777/router/").unwrap(), ("[::1]:7777".into(), "/router".into()));
        assert_eq!(parse_router_url("http://127.1.2.3").unwrap(), ("127.1.2.3:80".into(), "".into()));
        for bad in ["https://127.0.0.1:7777", "http://example.com:7777", "http://10.0.0.1", "http://127.0.0.1.evil:1", "127.0.0.1:7777", "http://[::2]:1"] {
            assert!(parse_router_url(bad).is_err(), "{bad}");
        }
    }
}
