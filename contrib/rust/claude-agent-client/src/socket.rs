//! The agent's socket: length-prefixed JSON frames (Protocol.md, Frames).

use crate::json::Json;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Protocol.md, Frames: a payload is 1 to 262144 bytes (256 KiB, as ssh-agent).
pub const MAX_FRAME_LENGTH: usize = 256 * 1024;

/// An error answer of the agent (`code` from Protocol.md's table, kept as sent, so codes
/// of a newer agent pass through), or one of this client's: `agent_not_running`, `io`,
/// `timeout` (no answer in time), `protocol_violation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentError {
    pub code: String,
    pub message: String,
}

impl AgentError {
    pub fn new(code: &str, message: impl Into<String>) -> AgentError {
        AgentError { code: code.to_string(), message: message.into() }
    }
}

impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AgentError {}

/// CLAUDE_AGENT_SOCK, else the agent's default path (Protocol.md, Transport).
pub fn default_socket_path() -> PathBuf {
    if let Some(path) = std::env::var_os("CLAUDE_AGENT_SOCK").filter(|path| !path.is_empty()) {
        return PathBuf::from(path);
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|dir| !dir.is_empty()) {
        return Path::new(&dir).join("claude-agent").join("agent.sock");
    }
    // The uid as the agent names its fallback directory; std has no getuid, /proc has it.
    let uid = std::fs::metadata("/proc/self").map(|meta| std::os::unix::fs::MetadataExt::uid(&meta)).unwrap_or(0);
    PathBuf::from(format!("/tmp/claude-agent-{uid}/agent.sock"))
}

/// One connection to the agent. Calls block until the answer or the time-out.
/// After a failed read or write the connection is spent (a frame may be half read).
pub struct AgentConnection {
    stream: UnixStream,
    next_id: i64,
    broken: bool,
}

impl AgentConnection {
    /// Connects to the socket at `path`; `agent_not_running` when nothing answers there.
    pub fn connect(path: &Path) -> Result<AgentConnection, AgentError> {
        match UnixStream::connect(path) {
            Ok(stream) => Ok(AgentConnection { stream, next_id: 1, broken: false }),
            Err(error) => Err(AgentError::new(
                "agent_not_running",
                format!("no agent at {} ({error}); start one with: eval \"$(claude-agent start)\"", path.display()),
            )),
        }
    }

    /// Sends `op` with `fields` and returns its `result`, waiting at most `timeout`.
    pub fn call(&mut self, op: &str, fields: Vec<(String, Json)>, timeout: Duration) -> Result<Json, AgentError> {
        if self.broken {
            return Err(AgentError::new("io", "an earlier call broke this connection; connect again"));
        }
        let result = self.exchange(op, fields, timeout);
        if let Err(error) = &result {
            self.broken = ["io", "timeout", "protocol_violation", "busy"].contains(&error.code.as_str());
        }
        result
    }

    fn exchange(&mut self, op: &str, fields: Vec<(String, Json)>, timeout: Duration) -> Result<Json, AgentError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut members = fields;
        members.retain(|(key, _)| key != "id" && key != "op");
        members.insert(0, ("op".to_string(), Json::from(op)));
        members.insert(0, ("id".to_string(), Json::Int(id)));
        let payload = Json::Object(members).to_json_string().into_bytes();
        if payload.len() > MAX_FRAME_LENGTH {
            return Err(AgentError::new("bad_request", "the request is larger than a frame"));
        }
        let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&payload);
        self.stream.set_read_timeout(Some(timeout.max(Duration::from_millis(1)))).map_err(io)?;
        self.stream.set_write_timeout(Some(timeout.max(Duration::from_millis(1)))).map_err(io)?;
        self.stream.write_all(&frame).map_err(io)?;
        loop {
            let answer = self.read_answer()?;
            let answer_id = answer.get("id").and_then(Json::as_i64);
            let ok = answer.get("ok").and_then(Json::as_bool);
            if answer_id == Some(0) && ok == Some(false) {
                return Err(error_of(&answer)); // busy, or a refused frame
            }
            if answer_id != Some(id) {
                continue; // the answer to a call given up on
            }
            return match (ok, answer.get("result")) {
                (Some(true), Some(result @ Json::Object(_))) => Ok(result.clone()),
                _ => Err(error_of(&answer)),
            };
        }
    }

    fn read_answer(&mut self) -> Result<Json, AgentError> {
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header).map_err(io)?;
        let length = u32::from_be_bytes(header) as usize;
        if length == 0 || length > MAX_FRAME_LENGTH {
            return Err(AgentError::new("protocol_violation", format!("the agent sent a frame of {length} bytes")));
        }
        let mut payload = vec![0u8; length];
        self.stream.read_exact(&mut payload).map_err(io)?;
        let text = String::from_utf8(payload).map_err(|_| AgentError::new("protocol_violation", "the agent sent a payload that is not UTF-8"))?;
        let answer = Json::parse(&text).map_err(|why| AgentError::new("protocol_violation", format!("the agent sent bad JSON: {why}")))?;
        match answer {
            Json::Object(_) => Ok(answer),
            _ => Err(AgentError::new("protocol_violation", "the agent sent a payload that is not an object")),
        }
    }
}

fn io(error: std::io::Error) -> AgentError {
    match error.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => AgentError::new("timeout", "the agent did not answer in time"),
        ErrorKind::UnexpectedEof => AgentError::new("io", "the agent closed the connection"),
        _ => AgentError::new("io", format!("the connection to the agent broke: {error}")),
    }
}

fn error_of(answer: &Json) -> AgentError {
    let error = answer.get("error");
    match error.and_then(|e| e.get("code")).and_then(Json::as_str) {
        Some(code) => AgentError::new(code, error.and_then(|e| e.get("message")).and_then(Json::as_str).unwrap_or("")),
        None => AgentError::new("protocol_violation", "the agent sent an answer that is neither a result nor an error"),
    }
}
