"""A strict stand-in for the Anthropic Messages API, for the local endpoint's tests.

Serves over HTTPS when given a certificate (the tests make a CA and a server certificate
with openssl) and checks each request the way the real API does, as public sources
describe it:
- `POST /v1/messages` wants `anthropic-version` (API reference, "Versions": the header
  is required), a JSON body with `model`, `max_tokens` (int) and `messages` (list)
  ("Messages" reference), and a credential. An OAuth token is sent as
  `Authorization: Bearer` together with `anthropic-beta: oauth-2025-04-20`; without the
  beta flag the API answers 401 "OAuth authentication is currently not supported."
  (anthropic-sdk-python #988). With `--require-beta` that rule is enforced.
- The token must be live: it is checked against the test OAuth server's `/api/whoami`
  (`--oauth-server`), so an expired or revoked token gets the API's 401
  `authentication_error`, as a rotated-away token does at the real service.
- A client key (`x-api-key`) must never arrive: the endpoint replaces whatever the client
  holds, and a key that reached the API would be a leak of the placeholder, or worse.
- `"stream": true` answers with server-sent events in the documented order
  ("Streaming Messages": message_start, content_block_start, ping, content_block_delta...,
  content_block_stop, message_delta, message_stop).
- Errors have the API's shape: {"type":"error","error":{"type":...,"message":...}}.

Test controls (not part of the API): `POST /test/reject-next?count=N` makes the next N
messages calls answer 401; `POST /test/hold` makes streams stop after their first delta
until `POST /test/release`; `GET /test/stats` counts calls; `POST /v1/hang` never answers;
`POST /v1/flood?bytes=N[&gap_ms=MS]` streams N bytes in 64 KiB chunks, MS apart (or
until the client leaves).

Prints `READY <url>` once serving; over HTTPS, `READY <https url> <http url>`, the second
serving the same state without TLS for the test's own calls.
"""
import argparse
import json
import signal
import ssl
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GATE = threading.Event()
GATE.set()
STATE = {"messages": 0, "unauthorized": 0, "reject_next": 0, "flood_started": 0, "flood_cancelled": 0,
         "hang_started": 0, "hang_closed": 0, "last_headers": {}, "tokens": []}
LOCK = threading.Lock()
ARGS = None


def token_is_live(token):
    request = urllib.request.Request(ARGS.oauth_server + "/api/whoami", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status == 200
    except urllib.error.HTTPError:
        return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("request-id", "req_mock")
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, kind, message):
        self.send_json(status, {"type": "error", "error": {"type": kind, "message": message}})

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        if self.path == "/test/stats":
            with LOCK:
                return self.send_json(200, {k: v for k, v in STATE.items() if k != "tokens"} | {"distinct_tokens": len(set(STATE["tokens"]))})
        self.error(404, "not_found_error", "Not found")

    def do_POST(self):
        path, _, query = self.path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        if path == "/test/hold":
            # The next streams stop after their first delta until /test/release.
            self.body()
            GATE.clear()
            return self.send_json(200, {})
        if path == "/test/release":
            self.body()
            GATE.set()
            return self.send_json(200, {})
        if path == "/test/reject-next":
            self.body()
            with LOCK:
                STATE["reject_next"] = int(params.get("count", "1"))
            return self.send_json(200, {})
        if path == "/v1/hang":
            self.body()
            with LOCK:
                STATE["hang_started"] += 1
            # Never answers; returns when the client closes (a read sees the end).
            self.connection.settimeout(None)
            while self.connection.recv(1):
                pass
            with LOCK:
                STATE["hang_closed"] += 1
            self.close_connection = True
            return
        if path == "/v1/flood":
            self.body()
            return self.flood(int(params.get("bytes", str(64 << 20))), int(params.get("gap_ms", "0")))
        if path != "/v1/messages":
            self.body()
            return self.error(404, "not_found_error", "Not found")
        raw = self.body()
        with LOCK:
            STATE["messages"] += 1
            STATE["last_headers"] = {k.lower(): (v if k.lower() != "authorization" else "<bearer>") for k, v in self.headers.items()}
            reject = STATE["reject_next"] > 0
            if reject:
                STATE["reject_next"] -= 1
        if self.headers.get("x-api-key") is not None:
            return self.error(400, "invalid_request_error", "x-api-key reached the API: the endpoint must remove it")
        if not self.headers.get("anthropic-version"):
            return self.error(400, "invalid_request_error", "anthropic-version: header is required")
        authorization = self.headers.get("Authorization", "")
        if not authorization.startswith("Bearer "):
            return self.unauthorized("x-api-key header is required")
        token = authorization[len("Bearer "):]
        betas = [b.strip() for b in ",".join(self.headers.get_all("anthropic-beta") or []).split(",") if b.strip()]
        if ARGS.require_beta and "oauth-2025-04-20" not in betas:
            return self.unauthorized("OAuth authentication is currently not supported.")
        if reject or not token_is_live(token):
            return self.unauthorized("invalid x-api-key")
        with LOCK:
            STATE["tokens"].append(token)
        try:
            request = json.loads(raw)
            assert isinstance(request.get("model"), str)
            assert isinstance(request.get("max_tokens"), int)
            assert isinstance(request.get("messages"), list) and request["messages"]
        except Exception:
            return self.error(400, "invalid_request_error", "model, max_tokens and messages are required")
        text = "Hello from the mock."
        if request.get("stream"):
            return self.stream(request["model"], text)
        self.send_json(200, {"id": "msg_mock", "type": "message", "role": "assistant", "model": request["model"],
                             "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                             "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 5}})

    def unauthorized(self, message):
        with LOCK:
            STATE["unauthorized"] += 1
        self.error(401, "authentication_error", message)

    def start_chunked(self, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def chunk(self, data):
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        self.wfile.flush()

    def stream(self, model, text):
        self.start_chunked("text/event-stream; charset=utf-8")

        def event(name, data):
            self.chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

        event("message_start", {"type": "message_start", "message": {
            "id": "msg_mock", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}})
        event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
        event("ping", {"type": "ping"})
        for index, word in enumerate(text.split(" ")):
            event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                          "delta": {"type": "text_delta", "text": word + " "}})
            if index == 0:
                GATE.wait(60)
            time.sleep(ARGS.delta_delay)
        event("content_block_stop", {"type": "content_block_stop", "index": 0})
        event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                "usage": {"output_tokens": 5}})
        event("message_stop", {"type": "message_stop"})
        self.chunk(b"")

    def flood(self, total, gap_ms):
        with LOCK:
            STATE["flood_started"] += 1
        self.start_chunked("application/octet-stream")
        piece = b"x" * 65536
        sent = 0
        try:
            while sent < total:
                self.chunk(piece)
                sent += len(piece)
                if gap_ms:
                    time.sleep(gap_ms / 1000)
            self.chunk(b"")
        except (BrokenPipeError, ConnectionResetError, TimeoutError, ssl.SSLError, OSError):
            with LOCK:
                STATE["flood_cancelled"] += 1
            self.close_connection = True


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert", help="PEM certificate chain: serve HTTPS")
    parser.add_argument("--key", help="PEM private key of --cert")
    parser.add_argument("--oauth-server", required=True, help="checks tokens at <url>/api/whoami")
    parser.add_argument("--require-beta", action="store_true", help="refuse OAuth tokens without the beta flag")
    parser.add_argument("--delta-delay", type=float, default=0.0, help="seconds between streamed deltas")
    ARGS = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    ready = f"READY http://127.0.0.1:{server.server_address[1]}"
    if ARGS.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(ARGS.cert, ARGS.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        # The test's own calls (/test/*) go to a plain-HTTP twin: the test process does
        # not trust the test CA, only the endpoint does.
        control = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        control.daemon_threads = True
        threading.Thread(target=control.serve_forever, daemon=True).start()
        ready = f"READY https://127.0.0.1:{server.server_address[1]} http://127.0.0.1:{control.server_address[1]}"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(ready, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
