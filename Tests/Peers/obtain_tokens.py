"""Log a test user in at the OAuth server with PKCE, as any client would, and print the
token endpoint's JSON answer (access and refresh token) on stdout.

    python Tests/Peers/obtain_tokens.py --server http://127.0.0.1:PORT --user alice --password alice-password

Used by tests that hand the agent a known refresh token, to check afterwards that the
server rejects it (rotation, revocation).
"""
import argparse
import base64
import hashlib
import json
import secrets
import sys
import urllib.parse

import requests

from browser import obtain_redirect

CLIENT_ID = "claude-agent-test"
REDIRECT_URI = "http://127.0.0.1:9/oauth/callback"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--scope", default="user:inference user:profile")
    args = parser.parse_args()

    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "scope": args.scope,
        "code_challenge": challenge, "code_challenge_method": "S256", "state": state,
    })
    location = obtain_redirect(f"{args.server}/o/authorize/?{query}", args.user, args.password)
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    if params.get("state") != state or "code" not in params:
        print(f"unexpected redirect: {location}", file=sys.stderr)
        return 1
    answer = requests.post(f"{args.server}/o/token/", data={
        "grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID, "code_verifier": verifier,
    }, timeout=10)
    if answer.status_code != 200:
        print(f"token endpoint answered {answer.status_code}: {answer.text}", file=sys.stderr)
        return 1
    print(json.dumps(answer.json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
