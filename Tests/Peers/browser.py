"""Plays a user's browser through the authorization-code flow of oauth_server.py.

    .venv/bin/python Tests/Peers/browser.py --user alice --password alice-password [--deny] [--no-callback] AUTHORIZE_URL

Prints `CALLBACK <status> <url>` after requesting the redirect URI (status 0 if
nothing answered), or with --no-callback `REDIRECT <location>` instead.
Exit status 0 if the callback answered 2xx (or, with --no-callback, if the
server redirected to the redirect URI), 1 otherwise, with the reason on stderr.
"""

import argparse
import sys
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

TIMEOUT = 30
MAX_STEPS = 10


class BrowserError(Exception):
    pass


class _Forms(HTMLParser):
    """Collects every <form>: its attributes and its <input> elements."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"attrs": attrs, "inputs": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(attrs)


def _find_form(html, field):
    """The first form that has an input named `field`, or None."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if any(i.get("name") == field for i in form["inputs"]):
            return form
    return None


def _submit(session, page, form, values, button=None):
    """POST `form` from `page` like a browser: hidden and text inputs with their
    values (overridden by `values`), plus only the clicked submit `button` name."""
    data = {}
    for i in form["inputs"]:
        name, kind = i.get("name"), i.get("type", "text").lower()
        if name and kind != "submit":
            data[name] = i.get("value", "")
        if name and kind == "submit" and name == button:
            data[name] = i.get("value", "")
    data.update(values)
    action = urljoin(page.url, form["attrs"].get("action") or page.url)
    return session.post(action, data=data, allow_redirects=False, timeout=TIMEOUT)


def _origin(url):
    parts = urlsplit(url)
    return (parts.scheme, parts.hostname, parts.port)


def obtain_redirect(url, user, password, deny=False):
    """Log in and answer the consent form; return the Location the server sent
    to the redirect URI (carrying code+state, or error). Raises BrowserError."""
    session = requests.Session()
    server = _origin(url)
    logged_in = consented = False
    response = session.get(url, allow_redirects=False, timeout=TIMEOUT)
    for _ in range(MAX_STEPS):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if _origin(location) != server:
                return location  # leaving the server: this is the redirect URI
            response = session.get(location, allow_redirects=False, timeout=TIMEOUT)
            continue
        if response.status_code != 200:
            raise BrowserError(f"{response.url} answered {response.status_code}: {response.text[:300]}")
        login = _find_form(response.text, "password")
        consent = _find_form(response.text, "allow")
        if login:
            if logged_in:
                raise BrowserError(f"login as {user} failed")
            logged_in = True
            response = _submit(session, response, login, {"username": user, "password": password})
        elif consent:
            if consented:
                raise BrowserError("consent form shown twice")
            consented = True
            response = _submit(session, response, consent, {}, button=None if deny else "allow")
        else:
            raise BrowserError(f"unexpected page at {response.url}: {response.text[:300]}")
    raise BrowserError("too many steps without reaching the redirect URI")


def authorize(url, user, password, deny=False):
    """Run the whole flow and request the redirect URI like a browser would.
    Returns (status, callback_url); status is 0 if nothing answered there."""
    callback = obtain_redirect(url, user, password, deny)
    try:
        status = requests.get(callback, allow_redirects=False, timeout=TIMEOUT).status_code
    except requests.RequestException as error:
        print(f"callback request failed: {error}", file=sys.stderr)
        status = 0
    return status, callback


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--deny", action="store_true", help="press Cancel on the consent form")
    parser.add_argument("--no-callback", action="store_true", help="print REDIRECT <location>, do not request it")
    parser.add_argument("url", metavar="AUTHORIZE_URL")
    args = parser.parse_args()
    try:
        if args.no_callback:
            print(f"REDIRECT {obtain_redirect(args.url, args.user, args.password, args.deny)}", flush=True)
            return 0
        status, callback = authorize(args.url, args.user, args.password, args.deny)
    except (BrowserError, requests.RequestException) as error:
        print(f"browser: {error}", file=sys.stderr)
        return 1
    print(f"CALLBACK {status} {callback}", flush=True)
    if not 200 <= status < 300:
        if status:
            print(f"browser: the callback answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
