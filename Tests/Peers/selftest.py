"""Checks the peers against each other, without the Swift code. Run by selftest.sh,
which starts oauth_server.py and two control_browser.py instances first."""

import argparse
import base64
import hashlib
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

import browser

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_ID = "claude-agent-test"
SCOPE = "user:profile user:inference user:sessions:claude_code"
passed, failed = 0, 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what} {detail}")
    return ok


class Listener:
    """The program's loopback callback listener: records each query it gets."""

    def __init__(self):
        received = self.received = queue.Queue()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                received.put({k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()})
                body = b"You can close this window."
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.redirect_uri = f"http://127.0.0.1:{self.server.server_address[1]}/oauth/callback"

    def wait(self, timeout=10):
        try:
            return self.received.get(timeout=timeout)
        except queue.Empty:
            return {}


def pkce():
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--control", required=True, help="control browser: 1=alice 2=bob 3=carol, 3 denies")
    parser.add_argument("--control-log", required=True)
    parser.add_argument("--control-failing", required=True, help="control browser with --fail-status 500")
    parser.add_argument("--access-token-seconds", type=float, required=True)
    args = parser.parse_args()
    server, listener = args.server, Listener()
    expected = {"authorization_code": 0, "refresh_token": 0}

    def authorize_url(redirect_uri=listener.redirect_uri, **extra):
        verifier, challenge = pkce()
        state = secrets.token_urlsafe(8)
        query = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect_uri,
                 "scope": SCOPE, "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}
        query.update(extra)
        query = {k: v for k, v in query.items() if v is not None}
        return f"{server}/o/authorize/?{urlencode(query)}", verifier, state

    def token(**form):
        expected[form["grant_type"]] += 1
        return requests.post(f"{server}/o/token/", data={"client_id": CLIENT_ID, **form}, timeout=30)

    def exchange(code, verifier, redirect_uri=listener.redirect_uri):
        return token(grant_type="authorization_code", code=code, code_verifier=verifier, redirect_uri=redirect_uri)

    def refresh(refresh_token):
        return token(grant_type="refresh_token", refresh_token=refresh_token)

    def whoami(access_token):
        return requests.get(f"{server}/api/whoami", headers={"Authorization": f"Bearer {access_token}"}, timeout=30)

    def invalid_grant(response):
        return response.status_code == 400 and response.json().get("error") == "invalid_grant"

    meta = requests.get(f"{server}/.well-known/oauth-authorization-server", timeout=30).json()
    check(meta.get("issuer") == server and meta.get("token_endpoint") == f"{server}/o/token/"
          and meta.get("code_challenge_methods_supported") == ["S256"]
          and "user:inference" in meta.get("scopes_supported", []), "RFC 8414 metadata", meta)

    # The whole flow, browser.py used as the Swift tests will: a subprocess.
    url, verifier, state = authorize_url()
    run = subprocess.run([sys.executable, os.path.join(HERE, "browser.py"), "--user", "alice",
                          "--password", "alice-password", url], capture_output=True, text=True, timeout=60)
    check(run.returncode == 0 and run.stdout.startswith(f"CALLBACK 200 {listener.redirect_uri}?"),
          "browser.py reaches the callback", run.stdout + run.stderr)
    got = listener.wait()
    check(got.get("state") == state and got.get("code"), "callback carries code and state", got)

    r = exchange(got.get("code"), verifier)
    tokens = r.json()
    check(r.status_code == 200 and tokens.get("token_type") == "Bearer"
          and tokens.get("expires_in") == args.access_token_seconds
          and set(tokens.get("scope", "").split()) == set(SCOPE.split()), "code exchange", tokens)
    check(invalid_grant(exchange(got.get("code"), verifier)), "replayed code: invalid_grant")
    a1, r1 = tokens.get("access_token"), tokens.get("refresh_token")
    r = whoami(a1)
    check(r.status_code == 200 and r.json().get("user") == "alice", "whoami with fresh token", r.text)
    check(whoami("nonsense").status_code == 401, "whoami with bad token: 401")

    time.sleep(args.access_token_seconds + 0.5)
    check(whoami(a1).status_code == 401, "whoami after expiry: 401")
    r = refresh(r1)
    tokens = r.json()
    a2, r2 = tokens.get("access_token"), tokens.get("refresh_token")
    check(r.status_code == 200 and a2 and r2 and r2 != r1, "refresh rotates", tokens)
    check(invalid_grant(refresh(r1)), "old refresh token: invalid_grant")
    check(whoami(a2).status_code == 200, "whoami with refreshed token")
    tokens = refresh(r2).json()
    a3, r3 = tokens.get("access_token"), tokens.get("refresh_token")
    check(whoami(a2).status_code == 401 and whoami(a3).status_code == 200,
          "rotation revokes the previous access token")
    r = requests.post(f"{server}/o/revoke_token/", timeout=30,
                      data={"token": r3, "token_type_hint": "refresh_token", "client_id": CLIENT_ID})
    check(r.status_code == 200, "revoke refresh token", r.text)
    check(invalid_grant(refresh(r3)), "revoked refresh token: invalid_grant")
    check(whoami(a3).status_code == 401, "revoking the refresh token revokes its access token")

    stats = requests.get(f"{server}/test/stats", timeout=30).json()
    check(stats == {"token_requests": expected, "total": sum(expected.values())}, "stats count", (stats, expected))

    # Hold a token request in flight with /test/delay.
    requests.post(f"{server}/test/delay?seconds=1.5", timeout=30).raise_for_status()
    started = time.monotonic()
    slow = threading.Thread(target=refresh, args=("no-such-token",))
    slow.start()
    time.sleep(0.5)
    in_flight = requests.get(f"{server}/test/stats", timeout=30).json()["token_requests"]
    slow.join()
    check(in_flight.get("refresh_token") == expected["refresh_token"]
          and time.monotonic() - started >= 1.5, "delay holds the request; counted on arrival", in_flight)
    requests.post(f"{server}/test/delay?seconds=0", timeout=30).raise_for_status()
    requests.post(f"{server}/test/reset", timeout=30).raise_for_status()
    check(requests.get(f"{server}/test/stats", timeout=30).json()["total"] == 0, "stats reset")

    url, _, state = authorize_url()
    status, _ = browser.authorize(url, "bob", "bob-password", deny=True)
    got = listener.wait()
    check(status == 200 and got.get("error") == "access_denied" and got.get("state") == state,
          "deny: error=access_denied at the callback", got)

    url, _, _ = authorize_url()
    run = subprocess.run([sys.executable, os.path.join(HERE, "browser.py"), "--user", "alice",
                          "--password", "wrong", url], capture_output=True, text=True, timeout=60)
    check(run.returncode == 1 and run.stdout == "" and "login" in run.stderr, "wrong password fails", run)

    url, _, _ = authorize_url(code_challenge=None, code_challenge_method=None)
    location = browser.obtain_redirect(url, "alice", "alice-password")
    check("error=invalid_request" in location, "PKCE is required", location)
    url, _, _ = authorize_url(code_challenge_method="plain")
    location = browser.obtain_redirect(url, "alice", "alice-password")
    check("error=invalid_request" in location, "PKCE plain is refused", location)

    port = urlsplit(listener.redirect_uri).port + 1
    for host in ("localhost", "127.0.0.1"):
        other = f"http://{host}:{port}/oauth/callback"
        url, _, _ = authorize_url(redirect_uri=other)
        location = browser.obtain_redirect(url, "carol", "carol-password")
        check(location.startswith(f"{other}?code="), f"loopback redirect on any port: {host}", location)
    try:
        url, _, _ = authorize_url(redirect_uri=listener.redirect_uri.replace("callback", "other"))
        browser.obtain_redirect(url, "carol", "carol-password")
        check(False, "unregistered redirect path is refused")
    except browser.BrowserError as error:
        check("Mismatching redirect URI" in str(error), "unregistered redirect path is refused", error)

    # The control browser.
    def open_auth(base, **query):
        return requests.get(f"{base}/open-auth?{urlencode(query)}", timeout=30)

    url, verifier, state = authorize_url()
    r = open_auth(args.control, account_id="2", auth_url=url)
    check(r.status_code == 200 and r.json() == {"ok": True}, "control browser: open-auth", r.text)
    got = listener.wait()
    tokens = exchange(got.get("code"), verifier).json()
    r = whoami(tokens.get("access_token"))
    check(got.get("state") == state and r.status_code == 200 and r.json().get("user") == "bob",
          "control browser: account 2 logs in as bob", (got, r.text))
    url, _, state = authorize_url()
    open_auth(args.control, account_id="3", auth_url=url)
    got = listener.wait()
    check(got.get("error") == "access_denied" and got.get("state") == state, "control browser: deny account", got)
    check(open_auth(args.control, account_id="9", auth_url=url).status_code == 400, "control browser: unknown account")
    check(open_auth(args.control, account_id="1").status_code == 400, "control browser: missing auth_url")
    check(open_auth(args.control_failing, account_id="1", auth_url=url).status_code == 500, "control browser: --fail-status")

    for _ in range(100):  # an entry gets its outcome once the callback has answered
        log = requests.get(f"{args.control}/log", timeout=30).json()
        if all(e["outcome"] != "pending" for e in log):
            break
        time.sleep(0.05)
    outcomes = [(e["account_id"], e["outcome"], e["callback_status"]) for e in log]
    check(outcomes == [("2", "callback-ok", 200), ("3", "callback-ok", 200), ("9", "bad-request", None),
                       ("1", "bad-request", None)], "control browser: /log", outcomes)
    with open(args.control_log) as f:
        lines = [json.loads(line) for line in f]
    check(sorted(e["account_id"] for e in lines) == ["1", "2", "3", "9"], "control browser: --log file", lines)
    failing = requests.get(f"{args.control_failing}/log", timeout=30).json()
    check([e["outcome"] for e in failing] == ["rejected"], "control browser: --fail-status does nothing", failing)
    check(listener.received.empty(), "no stray callbacks")

    # Two refreshes with one token in flight at once: only one may win.
    requests.post(f"{server}/test/delay?seconds=0.5", timeout=30).raise_for_status()
    results = []
    racers = [threading.Thread(target=lambda: results.append(refresh(tokens.get("refresh_token"))))
              for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    requests.post(f"{server}/test/delay?seconds=0", timeout=30).raise_for_status()
    check(sorted(r.status_code for r in results) == [200, 400] and any(invalid_grant(r) for r in results),
          "concurrent refreshes with one token: one wins, one gets invalid_grant", [r.text for r in results])

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
