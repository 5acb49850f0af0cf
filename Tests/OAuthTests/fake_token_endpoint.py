#!/usr/bin/env python3
"""A scripted OAuth token endpoint for the TokenEndpointClient tests (standard library only).

It listens on 127.0.0.1 on a free port and prints one line, "READY <port> <closed_port>",
where <closed_port> is a port that was free a moment ago and has nothing listening (for
the connection-refused test). It exits when its standard input closes (the test process
ended) or after ten minutes, whichever comes first.

Every POST is answered as its query string says, so concurrent tests never share state:

    key=K          groups requests; each test uses its own key
    mode=ok        200 with a token answer (the default)
    mode=fail      the first `times` requests get HTTP `status` (default 500), then ok
    mode=always    every request gets HTTP `status` (default 503), after `delay` seconds (default 0):
                   a provider behind a stuck gateway, which answers 503 only once its own
                   minute-long time-out runs out
    mode=error     HTTP `status` (default 400) with {"error": `error`, "error_description": `description`}
    mode=malformed 200 with a body that is not JSON
    mode=slow      sleeps `delay` seconds, then ok
    mode=empty     200 with an empty body (a revocation endpoint's answer)
    mode=redirect  307 to /elsewhere (which would answer ok)
    mode=rotate    a rotating provider, with one family of tokens per key (below)

mode=rotate behaves as providers that rotate refresh tokens do: Claude's token endpoint
and django-oauth-toolkit with ROTATE_REFRESH_TOKEN, which RFC 6819 §5.2.2.3 and the OAuth
2.0 Security BCP §4.14.2 recommend. Each refresh token works once:

    seed=RT        the first valid refresh token (default rt-0)
    delay=S        the refresh token is used up on receipt, and the answer comes S seconds
                   later: a slow provider (or a slow network back) that a client timing out
                   early loses the rotation to
    lifetime=S     expires_in of each answer (default 3600)
    lifetime_as=F  how expires_in is written: int (default), float (S + 0.5, as some
                   providers compute it), string ("S", as some providers send it), absent
    token_type=0   leaves token_type out (RFC 6749 §5.1 requires it; some providers omit it)

A refresh with the current refresh token answers 200 with at-N / rt-N (N = 1, 2, ...,
counting successful rotations under the key); a used or unknown one gets 400
invalid_grant at once, as RFC 6749 §5.2 says for an invalid refresh token.

GET /log?key=K answers with a JSON array of what each request under K carried: path,
content_type, accept, user_agent, authorization, and the decoded form or JSON fields.
"""

import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The peers' shared HTTP plumbing lives with them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Peers"))
import peer_http  # noqa: E402

LOCK = threading.Lock()
LOG = {}
# mode=rotate: per key, the refresh token that works now and how many rotations happened.
CURRENT = {}
ROTATIONS = {}


def token_answer(key, count):
    return {
        "access_token": f"at-{key}-{count}",
        "token_type": "bearer",
        "expires_in": 3600,
        "refresh_token": f"rt-{key}-{count}",
        "scope": "user:inference user:profile",
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def answer(self, status, body, content_type="application/json", headers=()):
        peer_http.send(self, status, body, content_type, headers)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/log":
            with LOCK:
                records = list(LOG.get(query.get("key", ""), []))
            self.answer(200, records)
        else:
            self.answer(404, {"error": "not_found"})

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            try:
                fields = json.loads(raw)
            except ValueError:
                fields = {"unparsable": raw.decode("utf-8", "replace")}
        else:
            fields = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        key = query.get("key", "")
        record = {
            "path": url.path,
            "content_type": content_type,
            "accept": self.headers.get("Accept"),
            "user_agent": self.headers.get("User-Agent"),
            "authorization": self.headers.get("Authorization"),
            "fields": fields,
        }
        with LOCK:
            LOG.setdefault(key, []).append(record)
            count = len(LOG[key])

        mode = query.get("mode", "ok")
        status = int(query.get("status", "0")) or None
        if mode == "fail" and count <= int(query.get("times", "1")):
            self.answer(status or 500, {"error": "server_error"})
        elif mode == "always":
            time.sleep(float(query.get("delay", "0")))
            self.answer(status or 503, b"<html>unavailable</html>", "text/html")
        elif mode == "rotate":
            self.rotate(key, query, fields)
        elif mode == "error":
            self.answer(status or 400, {"error": query.get("error", "invalid_grant"),
                                        "error_description": query.get("description", "")})
        elif mode == "malformed":
            self.answer(200, b"this is not json {", "text/plain")
        elif mode == "empty":
            self.answer(200, b"", "text/plain")
        elif mode == "redirect":
            self.answer(307, b"", "text/plain", [("Location", "/elsewhere")])
        else:
            if mode == "slow":
                time.sleep(float(query.get("delay", "3")))
            self.answer(200, token_answer(key, count))


    def rotate(self, key, query, fields):
        presented = fields.get("refresh_token") if isinstance(fields, dict) else None
        with LOCK:
            current = CURRENT.setdefault(key, query.get("seed", "rt-0"))
            valid = fields.get("grant_type") == "refresh_token" and presented == current
            if valid:
                # Used up on receipt, before the (possibly slow) answer is sent.
                ROTATIONS[key] = ROTATIONS.get(key, 0) + 1
                count = ROTATIONS[key]
                CURRENT[key] = f"rt-{count}"
        if not valid:
            self.answer(400, {"error": "invalid_grant", "error_description": "refresh token used or unknown"})
            return
        time.sleep(float(query.get("delay", "0")))
        lifetime = int(query.get("lifetime", "3600"))
        answer = {"access_token": f"at-{count}", "refresh_token": f"rt-{count}", "token_type": "Bearer",
                  "scope": "user:inference user:profile"}
        written = query.get("lifetime_as", "int")
        if written == "float":
            answer["expires_in"] = lifetime + 0.5
        elif written == "string":
            answer["expires_in"] = str(lifetime)
        elif written == "int":
            answer["expires_in"] = lifetime
        if query.get("token_type") == "0":
            del answer["token_type"]
        self.answer(200, answer)


def closed_port():
    """A port nothing listens on: bound and released, so nobody else holds it just now."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True

    def exit_when_parent_goes():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=exit_when_parent_goes, daemon=True).start()
    threading.Timer(600, lambda: os._exit(0)).start()
    print(f"READY {server.server_address[1]} {closed_port()}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
