"""Stand-in for the Electron "control browser": opens auth URLs as a given account.

    .venv/bin/python Tests/Peers/control_browser.py --port 0 --accounts '1=alice:alice-password,2=bob:bob-password' \
        [--fail-status 500] [--deny-accounts 2] [--log FILE]

Prints `READY http://127.0.0.1:<port>` once it serves.
GET /open-auth?account_id=<n>&auth_url=<url-encoded> answers 200 {"ok": true} at
once and runs browser.authorize() for that account in the background.
GET /log answers the JSON list of open-auth requests seen so far.
"""

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import browser
import peer_http


def parse_accounts(text):
    """'1=alice:pw,2=bob:pw' -> {'1': ('alice', 'pw'), '2': ('bob', 'pw')}"""
    accounts = {}
    for item in filter(None, text.split(",")):
        account_id, _, credentials = item.partition("=")
        user, _, password = credentials.partition(":")
        if not (account_id and user):
            raise argparse.ArgumentTypeError(f"bad account {item!r}; want ID=USER:PASSWORD")
        accounts[account_id.strip()] = (user, password)
    return accounts


class ControlBrowser:
    def __init__(self, accounts, deny, fail_status, log_path):
        self.accounts, self.deny, self.fail_status, self.log_path = accounts, deny, fail_status, log_path
        self.lock = threading.Lock()
        self.entries = []

    def record(self, entry):
        """Append to /log now; to --log FILE once the entry has its outcome."""
        with self.lock:
            self.entries.append(entry)
        if entry["outcome"] != "pending":
            self.write(entry)

    def write(self, entry):
        if self.log_path:
            with self.lock, open(self.log_path, "a") as log:
                log.write(json.dumps(entry) + "\n")

    def run(self, entry, user, password, deny):
        try:
            status, callback = browser.authorize(entry["auth_url"], user, password, deny=deny)
            outcome = "callback-ok" if 200 <= status < 300 else "callback-failed"
            update = {"outcome": outcome, "callback_status": status, "callback_url": callback}
        except Exception as error:  # noqa: BLE001 - any failure is an outcome to report
            update = {"outcome": "browser-failed", "error": str(error)}
        with self.lock:
            entry.update(update)
        self.write(entry)

    def open_auth(self, query):
        """Returns (status, body) for GET /open-auth."""
        account_id = query.get("account_id", [""])[0]
        auth_url = query.get("auth_url", [""])[0]
        entry = {"account_id": account_id, "auth_url": auth_url, "outcome": "pending",
                 "callback_status": None, "callback_url": None, "error": None}
        if not account_id or not auth_url:
            entry.update(outcome="bad-request", error="account_id and auth_url are required")
        elif account_id not in self.accounts:
            entry.update(outcome="bad-request", error=f"unknown account_id {account_id}")
        elif self.fail_status:
            entry.update(outcome="rejected", error=f"--fail-status {self.fail_status}")
        self.record(entry)
        if entry["outcome"] == "bad-request":
            return 400, {"ok": False, "error": entry["error"]}
        if entry["outcome"] == "rejected":
            return self.fail_status, {"ok": False, "error": entry["error"]}
        user, password = self.accounts[account_id]
        args = (entry, user, password, account_id in self.deny)
        threading.Thread(target=self.run, args=args, daemon=True).start()
        return 200, {"ok": True}


def make_handler(control):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlsplit(self.path)
            if url.path == "/open-auth":
                status, body = control.open_auth(parse_qs(url.query))
            elif url.path == "/log":
                with control.lock:
                    status, body = 200, [dict(e) for e in control.entries]
            else:
                status, body = 404, {"ok": False, "error": "not found"}
            peer_http.send(self, status, body)

        def log_message(self, format, *args):
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--accounts", type=parse_accounts, required=True, help="ID=USER:PASSWORD,...")
    parser.add_argument("--deny-accounts", default="", help="comma-separated account ids that press Cancel")
    parser.add_argument("--fail-status", type=int, help="answer every open-auth with this status, do nothing")
    parser.add_argument("--log", help="append one JSON line per open-auth request")
    args = parser.parse_args()

    deny = {a.strip() for a in args.deny_accounts.split(",") if a.strip()}
    control = ControlBrowser(args.accounts, deny, args.fail_status, args.log)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(control))
    server.daemon_threads = True
    peer_http.serve_until_stopped(server, f"READY http://127.0.0.1:{server.server_address[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
