"""A client written for the original auth router, unchanged in behaviour: create a token
request, then poll its status until it is approved, denied, cancelled or in error.

    python Tests/Peers/router_client.py --router http://127.0.0.1:PORT [--scope S]... [--timeout 60]

On approval prints the token bundle as JSON on stdout and exits 0; otherwise prints the
final status on stderr and exits 1.
"""
import argparse
import json
import sys
import time

import requests


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--router", required=True)
    parser.add_argument("--scope", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--poll", type=float, default=0.2)
    args = parser.parse_args()

    created = requests.post(f"{args.router}/v1/token-requests", timeout=10,
                            json={"client_name": "router-client", "hostname": "test-host",
                                  "scopes": args.scope or ["user:inference"]})
    if created.status_code != 201:
        print(f"create answered {created.status_code}: {created.text}", file=sys.stderr)
        return 1
    body = created.json()
    request_id = body["request_id"]
    assert body["status"] == "pending", body
    print(f"REQUEST {request_id}", file=sys.stderr, flush=True)

    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        status = requests.get(f"{args.router}/v1/token-requests/{request_id}/status", timeout=10)
        if status.status_code != 200:
            print(f"status answered {status.status_code}: {status.text}", file=sys.stderr)
            return 1
        answer = status.json()
        assert set(answer) == {"request_id", "status", "token", "error"}, answer
        if answer["status"] == "approved":
            print(json.dumps(answer["token"]))
            return 0
        if answer["status"] in ("denied", "cancelled", "error"):
            print(f"FINAL {answer['status']} {answer['error']}", file=sys.stderr)
            return 1
        time.sleep(args.poll)
    print("FINAL timeout", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
