"""A strict stand-in for Claude's OAuth service and the Messages API, on 127.0.0.1.

    .venv/bin/python Tests/Peers/claude_mock.py --port 0 [--access-token-seconds 28800]
        [--refresh-token-seconds N] [--email alice@example.com] [--verbose]

Prints exactly one line, `READY http://127.0.0.1:<port>`, once it serves; stops on
SIGTERM/SIGINT. Standard library only (it must run where nothing else is installed).

It is written from what public sources say the real service does, and refuses what the
real service refuses, so that a client passing against it has a fair chance against the
real one. Where each rule comes from:

- Authorize (`GET /cai/oauth/authorize`, formerly `/oauth/authorize` on claude.ai): the
  query Claude Code and the opencode-anthropic-auth plugins send, `code=true` first, then
  `client_id`, `response_type=code`, `redirect_uri`, `scope`, `code_challenge`,
  `code_challenge_method=S256`, `state` (anthropics/claude-code issues #36215, #93216 show
  whole URLs). Redirect URIs registered for Claude Code's client:
  `https://platform.claude.com/oauth/code/callback` (manual: the page shows `code#state`
  to paste) and `http://localhost:<any port>/callback` (automatic). Anything else is
  refused before login with "Redirect URI <uri> is not supported by client."
  (anthropics/claude-code #36015, #37831, #88877, #93216 quote that wording). The service
  has also refused `127.0.0.1` and other paths: only these two forms pass here.
- Token (`POST /v1/oauth/token` on platform.claude.com): JSON bodies only (terok-ai/terok
  #553, nanocoai/nanoclaw #1725: form bodies get 400 "Invalid request format"). Code
  exchange: `grant_type, code, redirect_uri, client_id, code_verifier, state` (the
  opencode plugins send the state too); refresh: `grant_type, refresh_token, client_id`
  and optionally `scope`. Refresh tokens are single use and rotate. Answers carry
  `token_type, access_token, expires_in` (8 h), `refresh_token, scope`, sometimes
  `refresh_token_expires_in`, and `account` / `organization` objects.
- Messages (`POST /v1/messages` on api.anthropic.com): an OAuth access token goes in
  `Authorization: Bearer` and needs `anthropic-beta: oauth-2025-04-20`; without it the API
  answers 401 "OAuth authentication is currently not supported." (anthropic-sdk-python
  #988, anthropics/claude-code #5983). `anthropic-version` is required, as for every
  Messages request (the API reference). The token is refused as an `x-api-key`.

The real hosts are three (claude.com, platform.claude.com, api.anthropic.com); here one
server serves every path. A user agent (claude_user.py) stands in for the person: it
follows the manual redirect to `https://platform.claude.com/oauth/code/callback` by asking
this server's own `/oauth/code/callback`, so tests keep the real manual redirect URI.

Test-only routes: `GET /test/stats`, `POST /test/reset`, `POST /test/revoke?refresh_token=`.
"""

import argparse
import base64
import hashlib
import html
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import peer_http

# Claude Code's public OAuth client id (every public client of the service uses it).
CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
# The scopes Claude Code asks for (the authorize URLs quoted in the issues above).
KNOWN_SCOPES = ("org:create_api_key", "user:profile", "user:inference", "user:sessions:claude_code",
                "user:mcp_servers", "user:file_upload")
MANUAL_REDIRECT_URI = "https://platform.claude.com/oauth/code/callback"
OAUTH_BETA = "oauth-2025-04-20"
AUTHORIZE_PATHS = ("/cai/oauth/authorize", "/oauth/authorize")
AUTHORIZE_FIELDS = ("code", "client_id", "response_type", "redirect_uri", "scope", "code_challenge",
                    "code_challenge_method", "state")
CODE_SECONDS = 600
MAX_BODY = 1 << 20


def redirect_uri_problem(uri, own_manual_uri):
    """None when `uri` is one of the two registered forms, else the service's refusal."""
    if uri in (MANUAL_REDIRECT_URI, own_manual_uri):
        return None
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError:
        port = None
    if (parts.scheme == "http" and parts.hostname == "localhost" and port is not None
            and parts.netloc == f"localhost:{port}" and parts.path == "/callback"
            and not parts.query and not parts.fragment):
        return None
    return f"Redirect URI {uri} is not supported by client."


def challenge_of(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_pkce_value(text):
    """RFC 7636 §4.1: 43 to 128 characters of [A-Za-z0-9-._~]."""
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    return 43 <= len(text) <= 128 and all(c in allowed for c in text)


class Service:
    """Everything the mock remembers, behind one lock."""

    def __init__(self, access_seconds, refresh_seconds, email):
        self.lock = threading.RLock()  # re-entered: a refusal counts itself under the lock
        self.access_seconds = access_seconds
        self.refresh_seconds = refresh_seconds
        self.account = {"uuid": "3f1a2b4c-0000-4000-8000-00000000a11c", "email_address": email}
        self.organization = {"uuid": "7e9d8c6b-0000-4000-8000-0000000000e0", "name": "Example Org"}
        self.own_manual_uri = None
        self.reset()

    def reset(self):
        with self.lock:
            self.tickets = {}        # consent ticket -> authorize request
            self.codes = {}          # code -> grant (single use)
            self.refresh_tokens = {}  # live refresh token -> grant
            self.dead_refresh_tokens = set()
            self.access_tokens = {}  # access token -> (expires_at, scopes)
            self.stats = {"authorize": 0, "authorize_refused": 0,
                          "token_requests": {"authorization_code": 0, "refresh_token": 0}, "token_refused": 0,
                          "messages": 0, "messages_refused": 0, "last_messages_headers": None}

    def issue(self, scopes):
        """A token response, and its tokens remembered. Caller holds the lock."""
        now = time.time()
        access = "sk-ant-oat01-" + secrets.token_urlsafe(48)
        refresh = "sk-ant-ort01-" + secrets.token_urlsafe(48)
        self.access_tokens[access] = (now + self.access_seconds, scopes)
        refresh_expiry = now + self.refresh_seconds if self.refresh_seconds else None
        self.refresh_tokens[refresh] = {"scopes": scopes, "expires_at": refresh_expiry}
        answer = {"token_type": "Bearer", "access_token": access, "expires_in": self.access_seconds,
                  "refresh_token": refresh, "scope": " ".join(scopes),
                  "organization": self.organization, "account": self.account}
        if self.refresh_seconds:
            answer["refresh_token_expires_in"] = self.refresh_seconds
        return answer


class Handler(BaseHTTPRequestHandler):
    server_version = "claude-mock/1"
    protocol_version = "HTTP/1.1"

    @property
    def service(self):
        return self.server.service

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("claude_mock: " + (fmt % args) + "\n")

    # -- plumbing -------------------------------------------------------------------

    def send(self, status, body, content_type="application/json", headers=()):
        peer_http.send(self, status, body, content_type, headers)

    def page(self, status, title, text):
        body = (f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body>"
                f"<h1>{html.escape(title)}</h1><p id=\"message\">{html.escape(text)}</p></body></html>")
        self.send(status, body, "text/html; charset=utf-8")

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length)

    def oauth_error(self, status, error, description):
        with self.service.lock:
            self.service.stats["token_refused"] += 1
        self.send(status, {"error": error, "error_description": description})

    def api_error(self, status, kind, message):
        with self.service.lock:
            self.service.stats["messages_refused"] += 1
        self.send(status, {"type": "error", "error": {"type": kind, "message": message}},
                  headers=[("request-id", "req_mock" + secrets.token_hex(8))])

    # -- routes ---------------------------------------------------------------------

    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path in AUTHORIZE_PATHS:
            return self.authorize(parts.query)
        if parts.path == "/oauth/code/callback":
            return self.manual_callback(parts.query)
        if parts.path == "/test/stats":
            with self.service.lock:
                return self.send(200, self.service.stats)
        self.send(404, {"error": "not_found"})

    def do_POST(self):
        parts = urlsplit(self.path)
        try:
            body = self.body()
        except ValueError:
            return self.send(413, {"error": "too_large"})
        if parts.path in tuple(p + "/consent" for p in AUTHORIZE_PATHS):
            return self.consent(body)
        if parts.path == "/v1/oauth/token":
            return self.token(body)
        if parts.path == "/v1/messages":
            return self.messages(body)
        if parts.path == "/test/reset":
            self.service.reset()
            return self.send(200, {"ok": True})
        if parts.path == "/test/revoke":
            token = dict(parse_qsl(parts.query)).get("refresh_token", "")
            with self.service.lock:
                known = self.service.refresh_tokens.pop(token, None) is not None
                self.service.dead_refresh_tokens.add(token)
            return self.send(200, {"ok": known})
        self.send(404, {"error": "not_found"})

    # -- authorize ------------------------------------------------------------------

    def authorize(self, query):
        pairs = parse_qsl(query, keep_blank_values=True)
        fields = dict(pairs)

        def refuse(text):
            with self.service.lock:
                self.service.stats["authorize_refused"] += 1
            self.page(400, "Authorization failed", text)

        if len(fields) != len(pairs):
            return refuse("Invalid request: a parameter is repeated.")
        if not pairs or pairs[0] != ("code", "true"):
            return refuse("Invalid request: code=true must come first.")
        missing = [name for name in AUTHORIZE_FIELDS if not fields.get(name)]
        if missing:
            return refuse("Invalid request: missing " + ", ".join(missing) + ".")
        unknown = sorted(set(fields) - set(AUTHORIZE_FIELDS))
        if unknown:
            return refuse("Invalid request: unknown parameter " + ", ".join(unknown) + ".")
        if fields["client_id"] != CLIENT_ID:
            return refuse(f"Client {fields['client_id']} is not a known client.")
        problem = redirect_uri_problem(fields["redirect_uri"], self.service.own_manual_uri)
        if problem:
            return refuse(problem)
        if fields["response_type"] != "code":
            return refuse("Invalid request: response_type must be code.")
        if fields["code_challenge_method"] != "S256" or not is_pkce_value(fields["code_challenge"]):
            return refuse("Invalid request: an S256 code_challenge is required.")
        scopes = fields["scope"].split(" ")
        bad = [scope for scope in scopes if scope not in KNOWN_SCOPES]
        if bad or len(set(scopes)) != len(scopes):
            return refuse("Invalid scope: " + " ".join(bad or scopes) + ".")
        ticket = secrets.token_urlsafe(16)
        with self.service.lock:
            self.service.stats["authorize"] += 1
            self.service.tickets[ticket] = {**fields, "scopes": scopes}
        action = urlsplit(self.path).path + "/consent"
        email = html.escape(self.service.account["email_address"])
        body = ("<!doctype html><html><head><title>Authorize Claude Code</title></head><body>"
                f"<h1>Claude Code would like to connect to your Claude account {email}</h1>"
                f"<ul>{''.join(f'<li>{html.escape(s)}</li>' for s in scopes)}</ul>"
                f"<form method=\"post\" action=\"{action}\">"
                f"<input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">"
                "<button name=\"decision\" value=\"allow\">Authorize</button>"
                "<button name=\"decision\" value=\"deny\">Decline</button></form></body></html>")
        self.send(200, body, "text/html; charset=utf-8")

    def consent(self, body):
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        with self.service.lock:
            request = self.service.tickets.pop(form.get("ticket", ""), None)
            if request is None:
                return self.page(400, "Authorization failed", "This authorization request has expired.")
            if form.get("decision") != "allow":
                query = {"error": "access_denied", "state": request["state"]}
            else:
                code = secrets.token_urlsafe(32)
                self.service.codes[code] = {**request, "issued": time.time()}
                query = {"code": code, "state": request["state"]}
        self.send(302, b"", "text/plain", headers=[("Location", request["redirect_uri"] + "?" + urlencode(query))])

    def manual_callback(self, query):
        """platform.claude.com's page: it shows `code#state` for the user to paste."""
        fields = dict(parse_qsl(query))
        if "error" in fields:
            return self.page(400, "Authorization failed", f"Authorization was not granted ({fields['error']}).")
        if not fields.get("code") or not fields.get("state"):
            return self.page(400, "Authorization failed", "Missing code or state.")
        pasted = html.escape(fields["code"] + "#" + fields["state"])
        body = ("<!doctype html><html><head><title>Authentication Code</title></head><body>"
                "<h1>Authentication Code</h1><p>Paste this into Claude Code:</p>"
                f"<pre id=\"code\">{pasted}</pre></body></html>")
        self.send(200, body, "text/html; charset=utf-8")

    # -- token ----------------------------------------------------------------------

    def token(self, body):
        service = self.service
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return self.oauth_error(400, "invalid_request", "Invalid request format")
        try:
            fields = json.loads(body)
        except ValueError:
            return self.oauth_error(400, "invalid_request", "Invalid request format")
        if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
            return self.oauth_error(400, "invalid_request", "Invalid request format")
        grant = fields.get("grant_type")
        if grant in service.stats["token_requests"]:
            with service.lock:
                service.stats["token_requests"][grant] += 1
        if grant == "authorization_code":
            return self.exchange_code(fields)
        if grant == "refresh_token":
            return self.refresh(fields)
        return self.oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")

    def exchange_code(self, fields):
        required = {"grant_type", "code", "redirect_uri", "client_id", "code_verifier", "state"}
        if set(fields) != required or not all(fields.values()):
            return self.oauth_error(400, "invalid_request", "Invalid request format")
        if fields["client_id"] != CLIENT_ID:
            return self.oauth_error(401, "invalid_client", "Invalid client_id")
        with self.service.lock:
            grant = self.service.codes.pop(fields["code"], None)  # single use, even when refused below
            if grant is None or time.time() - grant["issued"] > CODE_SECONDS:
                return self.oauth_error(400, "invalid_grant", "Invalid 'code' in request.")
            if fields["redirect_uri"] != grant["redirect_uri"]:
                return self.oauth_error(400, "invalid_grant", "Invalid 'redirect_uri' in request.")
            if fields["state"] != grant["state"]:
                return self.oauth_error(400, "invalid_grant", "Invalid 'state' in request.")
            if not is_pkce_value(fields["code_verifier"]) or challenge_of(fields["code_verifier"]) != grant["code_challenge"]:
                return self.oauth_error(400, "invalid_grant", "Invalid 'code_verifier' in request.")
            answer = self.service.issue(grant["scopes"])
        self.send(200, answer)

    def refresh(self, fields):
        allowed = {"grant_type", "refresh_token", "client_id", "scope"}
        if not {"grant_type", "refresh_token", "client_id"} <= set(fields) <= allowed or not all(fields.values()):
            return self.oauth_error(400, "invalid_request", "Invalid request format")
        if fields["client_id"] != CLIENT_ID:
            return self.oauth_error(401, "invalid_client", "Invalid client_id")
        with self.service.lock:
            grant = self.service.refresh_tokens.pop(fields["refresh_token"], None)
            if grant is None:
                return self.oauth_error(400, "invalid_grant", "Invalid refresh token")
            self.service.dead_refresh_tokens.add(fields["refresh_token"])
            if grant["expires_at"] is not None and time.time() > grant["expires_at"]:
                return self.oauth_error(400, "invalid_grant", "Refresh token expired")
            scopes = grant["scopes"]
            if "scope" in fields:
                asked = fields["scope"].split(" ")
                if not set(asked) <= set(scopes):
                    self.service.refresh_tokens[fields["refresh_token"]] = grant
                    return self.oauth_error(400, "invalid_scope", "The requested scope exceeds the grant.")
                scopes = asked
            answer = self.service.issue(scopes)
        self.send(200, answer)

    # -- messages -------------------------------------------------------------------

    def messages(self, body):
        service = self.service
        headers = {name.lower(): value for name, value in self.headers.items()}
        with service.lock:
            service.stats["last_messages_headers"] = {
                name: ("<redacted>" if name in ("authorization", "x-api-key") else value)
                for name, value in headers.items()}
        authorization = headers.get("authorization", "")
        if "x-api-key" in headers and not authorization:
            return self.api_error(401, "authentication_error", "invalid x-api-key")
        if not authorization.startswith("Bearer "):
            return self.api_error(401, "authentication_error", "x-api-key header is required")
        token = authorization[len("Bearer "):]
        betas = [beta.strip() for beta in headers.get("anthropic-beta", "").split(",")]
        if OAUTH_BETA not in betas:
            return self.api_error(401, "authentication_error", "OAuth authentication is currently not supported.")
        with service.lock:
            known = service.access_tokens.get(token)
        if known is None:
            return self.api_error(401, "authentication_error", "Invalid bearer token")
        if time.time() > known[0]:
            return self.api_error(401, "authentication_error",
                                  "OAuth token has expired. Please obtain a new token or refresh your existing token.")
        if "user:inference" not in known[1]:
            return self.api_error(403, "permission_error", "OAuth token does not meet scope requirement user:inference")
        if not headers.get("anthropic-version"):
            return self.api_error(400, "invalid_request_error", "anthropic-version: header is required")
        try:
            request = json.loads(body)
        except ValueError:
            return self.api_error(400, "invalid_request_error", "request body is not valid JSON")
        if not isinstance(request, dict):
            return self.api_error(400, "invalid_request_error", "request body must be a JSON object")
        for field, kind in (("model", str), ("max_tokens", int), ("messages", list)):
            if not isinstance(request.get(field), kind):
                return self.api_error(400, "invalid_request_error", f"{field}: Field required")
        with service.lock:
            service.stats["messages"] += 1
        text = "Hello from the mock."
        message_id = "msg_mock" + secrets.token_hex(8)
        usage = {"input_tokens": 10, "output_tokens": 5}
        if request.get("stream") is True:
            return self.stream(message_id, request["model"], text, usage)
        self.send(200, {"id": message_id, "type": "message", "role": "assistant", "model": request["model"],
                        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                        "stop_sequence": None, "usage": usage},
                  headers=[("request-id", "req_mock" + secrets.token_hex(8))])

    def stream(self, message_id, model, text, usage):
        """Server-sent events in the Messages API's order (the streaming reference)."""
        events = [
            ("message_start", {"type": "message_start", "message": {
                "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
                "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": usage["input_tokens"], "output_tokens": 1}}}),
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                               "usage": {"output_tokens": usage["output_tokens"]}}),
            ("message_stop", {"type": "message_stop"}),
        ]
        data = "".join(f"event: {name}\ndata: {json.dumps(payload)}\n\n" for name, payload in events).encode()
        self.send(200, data, "text/event-stream")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--access-token-seconds", type=int, default=28800, help="expires_in (the service: 8 h)")
    parser.add_argument("--refresh-token-seconds", type=int, default=0,
                        help="send refresh_token_expires_in and enforce it (0: omit, never expire)")
    parser.add_argument("--email", default="alice@example.com", help="the account's email_address")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.verbose = args.verbose
    server.service = Service(args.access_token_seconds, args.refresh_token_seconds, args.email)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    server.service.own_manual_uri = url + "/oauth/code/callback"
    peer_http.serve_until_stopped(server, f"READY {url}")


if __name__ == "__main__":
    main()
