#!/usr/bin/env python3
"""A claude-agent client in one file: Python >= 3.9, standard library only.

Speaks version 1 of Protocol.md (the agent's socket protocol). Copy this file next to
your tool, then:

    import claude_agent
    headers = claude_agent.auth_headers()              # for an HTTP call to Claude
    token = claude_agent.get_token(["user:inference"])  # a TokenBundle
    token = claude_agent.get_token(wait=True, timeout=120)  # ask a person, wait

Every failure raises AgentError, whose `.code` is one of Protocol.md's error codes
(`no_token`, `locked`, `denied`, `timeout`, ...) or one of this client's own:
`agent_not_running` (nothing answers at the socket), `io` (the connection broke),
`protocol_violation` (the answer was not a protocol answer). A code this file does not
know (from a newer agent) is kept as it came.

As a program it behaves as `claude-agent token` (same options, output and exit codes):

    python3 claude_agent.py token [--scope S]... [--account A] [--json | --header]
                                  [--wait [--timeout SECONDS]] [-a SOCKET]
"""
import argparse
import json
import os
import socket
import struct
import sys
from dataclasses import dataclass, field
from typing import Dict, Iterable, Optional, Sequence, Tuple, Union

PROTOCOL_VERSION = 1
"""The version of Protocol.md this client speaks."""

MAX_FRAME_LENGTH = 256 * 1024
"""Protocol.md, Frames: a payload is 1 to 262144 bytes."""

DEFAULT_TIMEOUT_SECONDS = 30.0
"""How long one call waits for the agent's answer (as the Swift client)."""

DEFAULT_WAIT_SECONDS = 300
"""Protocol.md, token.get with wait: the agent's default wait."""

MAX_WAIT_SECONDS = 3600
"""Protocol.md: a wait lasts 1 to 3600 seconds."""

DEFAULT_SCOPES = ("user:inference",)
"""The scopes auth_headers asks for: what a call to the Messages API needs."""

MAX_TIMEOUT_MS = 3_600_000
"""The largest `timeout_ms` the agent takes (1 to 3,600,000)."""

MAX_PAGES = 100_000
"""A bound on following next_cursor, so a misbehaving agent cannot loop us forever."""

# Client-side codes, beside the agent's (Protocol.md, Error codes).
AGENT_NOT_RUNNING = "agent_not_running"
IO = "io"
PROTOCOL_VIOLATION = "protocol_violation"

# `claude-agent token` exit codes (claude-agent --help, README's table), by error code; any
# other code is 7. rotation_lost ("log in again") sits with login_required.
EXIT_CODES = {
    AGENT_NOT_RUNNING: 1, IO: 1,
    "usage": 2, "bad_request": 2, "bad_configuration": 2,
    "no_token": 3, "not_found": 3,
    "expired": 4, "login_required": 4, "refresh_failed": 4, "rotation_lost": 4,
    "locked": 5,
    "denied": 6, "cancelled": 6, "timeout": 6, "request_failed": 6,
}
EXIT_FAILURE = 7
EXIT_USAGE = 2

AccountRef = Union[str, int]


class AgentError(Exception):
    """A failure with a stable `code` (snake_case) and a `message` for people."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class TokenBundle:
    """An access token as `token.get` answers it. The refresh token never leaves the agent."""
    access_token: str
    token_type: str = "Bearer"
    expires_at: Optional[str] = None  # RFC 3339, UTC; None when the provider stated none
    scopes: Tuple[str, ...] = ()
    account: Optional[str] = None
    account_id: Optional[int] = None
    headers: Dict[str, str] = field(default_factory=dict)  # provider headers besides Authorization

    @classmethod
    def from_json(cls, result: dict) -> "TokenBundle":
        token = result.get("access_token")
        if not isinstance(token, str) or not token:
            raise AgentError(PROTOCOL_VIOLATION, "the answer holds no access_token")
        headers = result.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise AgentError(PROTOCOL_VIOLATION, "the answer's headers is not an object of strings")
        return cls(access_token=token, token_type=result.get("token_type") or "Bearer",
                   expires_at=result.get("expires_at"), scopes=tuple(result.get("scopes") or ()),
                   account=result.get("account"), account_id=result.get("account_id"), headers=dict(headers))

    def __repr__(self) -> str:  # never print the token itself
        return f"TokenBundle(account={self.account!r}, expires_at={self.expires_at!r}, scopes={self.scopes!r})"


def default_socket_path(environ=None) -> str:
    """CLAUDE_AGENT_SOCK, else the agent's default path (Protocol.md, Transport)."""
    environ = os.environ if environ is None else environ
    if environ.get("CLAUDE_AGENT_SOCK"):
        return environ["CLAUDE_AGENT_SOCK"]
    if environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(environ["XDG_RUNTIME_DIR"], "claude-agent", "agent.sock")
    return f"/tmp/claude-agent-{os.getuid()}/agent.sock"


class AgentClient:
    """One connection to the agent, one method per operation. Not for sharing between threads."""

    def __init__(self, socket_path: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT_SECONDS):
        self.socket_path = socket_path or default_socket_path()
        self.timeout = timeout
        self._sock: Optional[socket.socket] = None
        self._next_id = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # -- the wire -------------------------------------------------------------------

    def call(self, op: str, fields: Optional[dict] = None, *, timeout: Optional[float] = None) -> dict:
        """Sends one request (`fields` beside `id` and `op`) and returns its `result`; raises
        AgentError with the agent's code. `timeout`: seconds to wait for the answer."""
        request_id = self._next_id
        self._next_id += 1
        payload = json.dumps({**(fields or {}), "id": request_id, "op": op}).encode()
        sock = self._connected()
        sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            sock.sendall(struct.pack(">I", len(payload)) + payload)
            while True:
                answer = self._read_answer(sock)
                if answer.get("id") == 0 and answer.get("ok") is False:
                    self.close()  # answered before our request was read: busy, a bad frame
                    raise _error_from(answer)
                if answer.get("id") != request_id:
                    continue  # the answer to a request given up on earlier
                if answer.get("ok") is True and isinstance(answer.get("result"), dict):
                    return answer["result"]
                raise _error_from(answer)
        except socket.timeout:
            self.close()
            raise AgentError("timeout", f"the agent did not answer within {sock.gettimeout()} s") from None
        except OSError as error:
            self.close()
            raise AgentError(IO, f"the connection to the agent broke: {error}") from None

    def _connected(self) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.timeout)
                sock.connect(self.socket_path)
            except OSError as error:
                sock.close()
                raise AgentError(AGENT_NOT_RUNNING, f"no agent at {self.socket_path} ({error.strerror or error}); "
                                 'start one with: eval "$(claude-agent start)"') from None
            self._sock = sock
        return self._sock

    def _read_answer(self, sock: socket.socket) -> dict:
        (length,) = struct.unpack(">I", self._read_exactly(sock, 4))
        if not 1 <= length <= MAX_FRAME_LENGTH:
            self.close()
            raise AgentError(PROTOCOL_VIOLATION, f"the agent sent a frame of {length} bytes")
        try:
            answer = json.loads(self._read_exactly(sock, length).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            self.close()
            raise AgentError(PROTOCOL_VIOLATION, "the agent sent a payload that is not JSON") from None
        if not isinstance(answer, dict):
            self.close()
            raise AgentError(PROTOCOL_VIOLATION, "the agent sent a payload that is not an object")
        return answer

    def _read_exactly(self, sock: socket.socket, count: int) -> bytes:
        chunks, left = [], count
        while left:
            chunk = sock.recv(min(left, 65536))
            if not chunk:
                self.close()
                raise AgentError(IO, "the agent closed the connection")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _paged(self, op: str, key: str, fields: Optional[dict] = None) -> list:
        """Every item of a list op, following `next_cursor` when the agent pages."""
        items, cursor, seen = [], None, set()
        for _ in range(MAX_PAGES):
            result = self.call(op, {**(fields or {}), **({"cursor": cursor} if cursor else {})})
            items.extend(result.get(key) or [])
            cursor = result.get("next_cursor")
            if not cursor:
                return items
            if cursor in seen:
                raise AgentError(PROTOCOL_VIOLATION, f"{op} repeated the cursor {cursor!r}")
            seen.add(cursor)
        raise AgentError(PROTOCOL_VIOLATION, f"{op} kept paging past {MAX_PAGES} pages")

    # -- operations -----------------------------------------------------------------

    def hello(self) -> dict:
        return self.call("hello", {"protocol": PROTOCOL_VERSION, "client": "claude_agent.py"})

    def status(self) -> dict:
        return self.call("status")

    def get_token(self, scopes: Iterable[str] = (), account: Optional[AccountRef] = None, wait: bool = False,
                  timeout: Optional[float] = None, refresh: bool = False,
                  client_name: Optional[str] = None) -> TokenBundle:
        """`token.get`. With `wait`, a person approves when no token is held; `timeout` is then
        the seconds to wait (default 300), else the seconds this call may take (default 30)."""
        fields = {"scopes": list(scopes)}
        if account is not None:
            fields["account"] = account
        if refresh:
            fields["refresh"] = True
        if client_name:
            fields["client_name"] = client_name
        if wait:
            wait_seconds = DEFAULT_WAIT_SECONDS if timeout is None else min(MAX_WAIT_SECONDS, max(1, int(timeout)))
            fields.update(wait=True, timeout=wait_seconds)
            deadline = wait_seconds + 10.0  # the agent answers `timeout` first
        else:
            deadline = self.timeout if timeout is None else float(timeout)
        fields["timeout_ms"] = max(1, min(int(deadline * 1000), MAX_TIMEOUT_MS))
        return TokenBundle.from_json(self.call("token.get", fields, timeout=deadline))

    def list_accounts(self) -> list:
        return self._paged("account.list", "accounts")

    def add_account(self, account: str, access_token: str, **fields) -> dict:
        return self.call("account.add", {**fields, "account": account, "access_token": access_token})

    def remove_account(self, account: AccountRef) -> dict:
        return self.call("account.remove", {"account": account})

    def lock(self, passphrase: str) -> None:
        self.call("agent.lock", {"passphrase": passphrase})

    def unlock(self, passphrase: str) -> None:
        self.call("agent.unlock", {"passphrase": passphrase})

    def list_requests(self) -> list:
        return self._paged("request.list", "requests")

    def get_request(self, request_id: str) -> dict:
        return self.call("request.get", {"request_id": request_id})

    def wait_request(self, request_id: str, timeout: int = DEFAULT_WAIT_SECONDS) -> dict:
        """`request.wait`: the request once it ends (token included), or AgentError `timeout`."""
        return self.call("request.wait", {"request_id": request_id, "timeout": int(timeout)}, timeout=timeout + 10.0)

    def select_account(self, request_id: str, account: AccountRef, print_url: bool = False) -> dict:
        return self.call("request.select_account", {"request_id": request_id, "account": account, "print_url": print_url},
                         timeout=max(self.timeout, 30.0))

    def deny_request(self, request_id: str, reason: Optional[str] = None) -> dict:
        return self.call("request.deny", {"request_id": request_id, **({"reason": reason} if reason else {})})

    def cancel_request(self, request_id: str) -> dict:
        return self.call("request.cancel", {"request_id": request_id})


def _error_from(answer: dict) -> AgentError:
    error = answer.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return AgentError(error["code"], str(error.get("message", "")))
    return AgentError(PROTOCOL_VIOLATION, "the agent sent an answer that is neither a result nor an error")


# -- the one-call API --------------------------------------------------------------------

def get_token(scopes: Iterable[str] = (), account: Optional[AccountRef] = None, wait: bool = False,
              timeout: Optional[float] = None, refresh: bool = False) -> TokenBundle:
    """An access token covering `scopes` from the agent at CLAUDE_AGENT_SOCK."""
    with AgentClient() as client:
        return client.get_token(scopes, account=account, wait=wait, timeout=timeout, refresh=refresh)


def auth_headers(scopes: Iterable[str] = DEFAULT_SCOPES, account: Optional[AccountRef] = None, wait: bool = False,
                 timeout: Optional[float] = None, environ=None) -> Dict[str, str]:
    """The headers of one Claude API call, in the order Claude Code resolves credentials (and the
    Swift AuthResolver): ANTHROPIC_AUTH_TOKEN as a Bearer token, else ANTHROPIC_API_KEY as
    `x-api-key`, else the agent's token as a Bearer token plus its provider's headers."""
    environ = os.environ if environ is None else environ
    if environ.get("ANTHROPIC_AUTH_TOKEN"):
        return {"Authorization": f"Bearer {environ['ANTHROPIC_AUTH_TOKEN']}"}
    if environ.get("ANTHROPIC_API_KEY"):
        return {"x-api-key": environ["ANTHROPIC_API_KEY"]}
    with AgentClient(default_socket_path(environ)) as client:
        token = client.get_token(scopes, account=account, wait=wait, timeout=timeout)
    return {"Authorization": f"Bearer {token.access_token}", **token.headers}


def list_accounts() -> list:
    """Every account the agent holds (summaries, never a secret)."""
    with AgentClient() as client:
        return client.list_accounts()


def status() -> dict:
    """The agent's `status` answer (works while locked)."""
    with AgentClient() as client:
        return client.status()


# -- `python3 claude_agent.py token` -----------------------------------------------------

def _account_ref(text: str) -> AccountRef:
    """As the CLI: digits up to 4294967295 name an account id (Protocol.md, Types), anything else a name."""
    return int(text) if text.isascii() and text.isdigit() and int(text) <= 0xFFFFFFFF else text


def _seconds(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 1 to 3600")
    return int(text)


class _UsageParser(argparse.ArgumentParser):
    """Usage errors as claude-agent writes them: one line, `claude-agent: usage: ...`, exit 2."""

    def error(self, message: str):
        print(f"claude-agent: usage: {message} (see 'claude_agent.py token --help')", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _token_command(argv: Sequence[str]) -> int:
    parser = _UsageParser(prog="claude_agent.py token",
                                     description="Prints an access token that covers the scopes, and a newline.")
    parser.add_argument("--scope", action="append", default=[], help="a scope the token must cover; repeatable")
    parser.add_argument("--account", help="take the token of this account (a name or numeric id)")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the bundle as JSON")
    shape.add_argument("--header", action="store_true", help='print "Authorization: Bearer <token>" and provider headers')
    parser.add_argument("--refresh", action="store_true", help="refresh the token now: the one held was refused")
    parser.add_argument("--wait", action="store_true", help="ask for approval instead of failing when no token is held")
    parser.add_argument("--timeout", type=_seconds, default=DEFAULT_WAIT_SECONDS, help="with --wait: give up after S seconds")
    parser.add_argument("-a", dest="socket", help="the agent's socket (default $CLAUDE_AGENT_SOCK)")
    args = parser.parse_args(argv)  # a usage error exits 2, as the CLI's

    scopes, seen = [], set()
    for item in args.scope:  # each --scope may hold several, space-separated (Scopes.parse)
        for scope in item.split():
            if scope not in seen:
                seen.add(scope)
                scopes.append(scope)
    account = _account_ref(args.account) if args.account is not None else None
    try:
        with AgentClient(args.socket) as client:
            try:
                token = client.get_token(scopes, account=account, refresh=args.refresh)
            except AgentError as error:
                if not (args.wait and error.code in ("no_token", "not_found", "expired", "login_required")):
                    raise
                print("Waiting for approval: claude-agent requests", file=sys.stderr)
                token = client.get_token(scopes, account=account, wait=True, timeout=args.timeout,
                                         client_name="claude_agent.py token")
    except AgentError as error:
        print(f"claude-agent: {error.code}: {error.message}", file=sys.stderr)
        return EXIT_CODES.get(error.code, EXIT_FAILURE)
    if args.json:
        bundle = {"account": token.account, "account_id": token.account_id, "access_token": token.access_token,
                  "token_type": token.token_type, "expires_at": token.expires_at, "scopes": list(token.scopes),
                  "scope": " ".join(token.scopes)}
        if token.headers:
            bundle["headers"] = token.headers
        print(json.dumps(bundle, separators=(",", ":")))
    elif args.header:
        print(f"Authorization: Bearer {token.access_token}")
        for name, value in token.headers.items():
            print(f"{name}: {value}")
    else:
        print(token.access_token)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "token":
        print("claude-agent: usage: claude_agent.py token [--scope S]... [--account A] [--json | --header] "
              "[--refresh] [--wait [--timeout SECONDS]] [-a SOCKET]", file=sys.stderr)
        return EXIT_USAGE
    return _token_command(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
