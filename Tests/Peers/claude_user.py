"""Plays the person in a browser against claude_mock.py's authorize page.

    .venv/bin/python Tests/Peers/claude_user.py [--deny] [--no-callback] AUTHORIZE_URL
    .venv/bin/python Tests/Peers/claude_user.py --grant MOCK_URL

Opens the authorize URL, presses Authorize (or Decline with --deny), and follows the
redirect the way a browser would:

- to `http://localhost:<port>/callback` (the automatic flow): requests it once and prints
  `CALLBACK <status> <url>` (status 0 when nothing answered); exit 0 iff 2xx.
- to the manual page `https://platform.claude.com/oauth/code/callback` (or the mock's own
  `/oauth/code/callback`): asks the mock's page, which stands in for platform.claude.com,
  and prints `PASTE <code#state>`, the text a person copies from it; exit 0.
- with --no-callback: prints `REDIRECT <location>` and requests nothing more; exit 0.

- with --grant: plays a whole other client (as another Claude Code on the machine would):
  PKCE login (scopes user:profile user:inference) with the manual redirect and the code
  exchange at MOCK_URL, and prints
  `GRANT <access token> <refresh token>`; exit 0.

A refused authorize request (an unregistered redirect URI, a missing `code=true`, ...)
prints nothing on stdout, the page's message on stderr, and exits 1.
Standard library only.
"""

import argparse
import base64
import hashlib
import json
import re
import secrets
import sys
import urllib.error
import urllib.request
from html import unescape
from urllib.parse import urlencode, urljoin, urlsplit

from claude_mock import CLIENT_ID, MANUAL_REDIRECT_URI

TIMEOUT = 30


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(url, data=None):
    """(status, headers, body text), without following redirects."""
    request = urllib.request.Request(url, data=data)
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            return response.status, response.headers, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode("utf-8", "replace")


def message_of(page):
    found = re.search(r'<p id="message">(.*?)</p>', page, re.S)
    return unescape(found.group(1)) if found else page[:200]


def authorize(url, deny=False):
    """The redirect Location after consent; raises RuntimeError when refused."""
    status, _, page = fetch(url)
    if status != 200:
        raise RuntimeError(f"authorize page answered {status}: {message_of(page)}")
    action = re.search(r'<form method="post" action="([^"]+)">', page)
    ticket = re.search(r'name="ticket" value="([^"]+)"', page)
    if not action or not ticket:
        raise RuntimeError("no consent form on the authorize page")
    form = urlencode({"ticket": ticket.group(1), "decision": "deny" if deny else "allow"}).encode()
    status, headers, page = fetch(urljoin(url, unescape(action.group(1))), form)
    if status != 302 or not headers.get("Location"):
        raise RuntimeError(f"consent answered {status}: {message_of(page)}")
    return headers["Location"]


def paste_text(location, authorize_url):
    """What the manual page shows: `code#state`."""
    parts = urlsplit(location)
    base = urlsplit(authorize_url)
    page_url = f"{base.scheme}://{base.netloc}/oauth/code/callback?{parts.query}"
    status, _, page = fetch(page_url)
    found = re.search(r'<pre id="code">(.*?)</pre>', page, re.S)
    if status != 200 or not found:
        raise RuntimeError(f"the code page answered {status}: {message_of(page)}")
    return unescape(found.group(1))


def grant(mock_url):
    """A login of its own at the mock: (access token, refresh token)."""
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    query = urlencode([("code", "true"), ("client_id", CLIENT_ID), ("response_type", "code"),
                       ("redirect_uri", MANUAL_REDIRECT_URI), ("scope", "user:profile user:inference"),
                       ("code_challenge", challenge), ("code_challenge_method", "S256"), ("state", state)])
    url = f"{mock_url}/cai/oauth/authorize?{query}"
    code, _, pasted_state = paste_text(authorize(url), url).partition("#")
    body = json.dumps({"grant_type": "authorization_code", "code": code, "redirect_uri": MANUAL_REDIRECT_URI,
                       "client_id": CLIENT_ID, "code_verifier": verifier, "state": pasted_state}).encode()
    request = urllib.request.Request(f"{mock_url}/v1/oauth/token", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        answer = json.load(response)
    return answer["access_token"], answer["refresh_token"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deny", action="store_true", help="press Decline")
    parser.add_argument("--no-callback", action="store_true", help="print the redirect, follow nothing")
    parser.add_argument("--grant", action="store_true", help="URL is the mock: log in there as another client would")
    parser.add_argument("url")
    args = parser.parse_args()
    try:
        if args.grant:
            print("GRANT %s %s" % grant(args.url.rstrip("/")), flush=True)
            return 0
        location = authorize(args.url, args.deny)
        if args.no_callback:
            print(f"REDIRECT {location}", flush=True)
            return 0
        base = urlsplit(args.url)
        if location.startswith(MANUAL_REDIRECT_URI + "?") or location.startswith(
                f"{base.scheme}://{base.netloc}/oauth/code/callback?"):
            print(f"PASTE {paste_text(location, args.url)}", flush=True)
            return 0
        try:
            status, _, _ = fetch(location)
        except (urllib.error.URLError, OSError):
            status = 0
        print(f"CALLBACK {status} {location}", flush=True)
        return 0 if 200 <= status < 300 else 1
    except RuntimeError as error:
        print(f"claude_user: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
