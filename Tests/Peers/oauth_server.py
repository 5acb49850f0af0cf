"""A real OAuth 2 authorization server for the end-to-end tests: a single-file
Django project around django-oauth-toolkit (DOT).

    .venv/bin/python Tests/Peers/oauth_server.py --port 0 [--access-token-seconds 5] [--state-dir DIR]

Prints exactly one line, `READY http://127.0.0.1:<port>`, once it serves.
Exits cleanly on SIGTERM/SIGINT. See README.md in this folder for the contract.
"""

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from urllib.parse import parse_qs

import peer_http

import django
from django.conf import settings

CLIENT_ID = "claude-agent-test"
USERS = {"alice": "alice-password", "bob": "bob-password", "carol": "carol-password"}

# Loopback redirect URIs (RFC 8252 §7.3). In DOT 3.4.1,
# oauth2_provider.models.check_redirect_to_uri_allowed() compares scheme, host,
# path and query exactly, but skips the port comparison when the *registered*
# URI is `http` with host 127.0.0.1 or ::1 -- the port in the registered URI is
# then irrelevant. `localhost` gets the same exemption only with the setting
# ALLOW_LOCALHOST_LOOPBACK=True (off by default: RFC 8252 §8.3 discourages it).
# Host names are never conflated: a request for http://localhost:N/... needs a
# registered localhost URI. `http` must be in ALLOWED_REDIRECT_URI_SCHEMES
# (it is by default). The token endpoint then requires the exact redirect_uri
# (port included) that was used at /o/authorize/.
REDIRECT_URIS = " ".join(
    f"http://{host}/oauth/callback" for host in ("127.0.0.1", "localhost", "[::1]")
)

SCOPES = {
    "user:profile": "Read your profile",
    "user:inference": "Use the model on your behalf",
    "user:sessions:claude_code": "Run Claude Code sessions",
    "read": "Read access",
}
DEFAULT_SCOPES = ["user:profile", "user:inference"]

TEMPLATES = {
    "registration/login.html": """<!DOCTYPE html>
<html><head><title>Log in</title></head><body>
<h1>Log in</h1>
{% if form.errors %}<p class="error">Wrong user name or password.</p>{% endif %}
<form id="loginForm" method="post">{% csrf_token %}
<input type="text" name="username" autofocus>
<input type="password" name="password">
<input type="hidden" name="next" value="{{ next }}">
<input type="submit" value="Log in">
</form></body></html>""",
    # DOT's authorize.html extends this one; the shipped version works too, but
    # this keeps the consent page free of static files.
    "oauth2_provider/base.html": """<!DOCTYPE html>
<html><head><title>Authorize</title></head>
<body>{% block content %}{% endblock content %}</body></html>""",
}

# --- test-only instrumentation -------------------------------------------------

_lock = threading.Lock()
_token_requests = Counter()  # grant_type -> POSTs to /o/token/
_token_delay = 0.0  # seconds every /o/token/ POST sleeps before being handled
# DOT checks a refresh token (validate_refresh_token) before, and outside, the
# transaction that rotates it, and select_for_update is a no-op on SQLite: N
# concurrent refreshes with one token would all succeed, each minting a new
# pair. A real server lets a refresh token be used once, so token and
# revocation requests are handled one at a time (after the test delay).
_token_endpoint_lock = threading.Lock()


class TokenStatsMiddleware:
    """Counts POSTs to /o/token/ by grant_type, applies the test delay, and
    serializes the token and revocation endpoints."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or request.path not in ("/o/token/", "/o/revoke_token/"):
            return self.get_response(request)
        if request.path == "/o/token/":
            # Read the raw body first: Django caches it, so DOT can still use request.POST.
            form = parse_qs(request.body.decode("utf-8", "replace"))
            grant_type = form.get("grant_type", ["(none)"])[0]
            with _lock:
                _token_requests[grant_type] += 1
                delay = _token_delay
            if delay > 0:
                time.sleep(delay)
        with _token_endpoint_lock:
            return self.get_response(request)


def configure(state_dir, access_token_seconds, verbose):
    settings.configure(
        DEBUG=False,
        SECRET_KEY="test-only-not-secret",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "oauth2_provider",
        ],
        MIDDLEWARE=[
            f"{__name__}.TokenStatsMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        # Sessions in signed cookies: fewer SQLite writes, no sessions table.
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": os.path.join(state_dir, "db.sqlite3"),
                # The server is threaded: wait for locks, take them up front, and
                # let readers run beside the writer.
                "OPTIONS": {
                    "timeout": 30,
                    "transaction_mode": "IMMEDIATE",
                    "init_command": "PRAGMA journal_mode=WAL;",
                },
            }
        },
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        # Fast hashing: these are throwaway test users.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        USE_TZ=True,
        STATIC_URL="/static/",
        LOGIN_URL="/accounts/login/",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "OPTIONS": {
                    "context_processors": ["django.template.context_processors.request"],
                    "loaders": [
                        ("django.template.loaders.locmem.Loader", TEMPLATES),
                        "django.template.loaders.app_directories.Loader",
                    ],
                },
            }
        ],
        OAUTH2_PROVIDER={
            "PKCE_REQUIRED": True,
            # Reject code_challenge_method=plain: S256 only.
            "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
            "ACCESS_TOKEN_EXPIRE_SECONDS": access_token_seconds,
            "ROTATE_REFRESH_TOKEN": True,
            "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
            "SCOPES": SCOPES,
            "DEFAULT_SCOPES": DEFAULT_SCOPES,
            "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
            "ALLOW_LOCALHOST_LOOPBACK": True,
        },
        LOGGING={
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}},
            "root": {"handlers": ["stderr"], "level": "DEBUG" if verbose else "WARNING"},
            "loggers": {
                # Request lines and 4xx warnings are noise for the tests.
                "django.server": {"level": "INFO" if verbose else "ERROR", "propagate": True},
                "django.request": {"level": "INFO" if verbose else "ERROR", "propagate": True},
                "django.db": {"level": "INFO"},
            },
        },
    )
    django.setup()


def build_urls():
    """Define views and urlpatterns; needs Django set up first."""
    from django.contrib.auth import views as auth_views
    from django.http import HttpResponse, JsonResponse
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt
    from django.views.decorators.http import require_GET, require_POST
    from oauth2_provider.oauth2_backends import get_oauthlib_core

    @require_GET
    def whoami(request):
        # What ProtectedResourceView does, but it keeps only the user and answers
        # a bare 403; RFC 6750 wants 401 + a challenge, and we want the scope too.
        valid, oauth = get_oauthlib_core().verify_request(request, scopes=[])
        if not valid:
            response = HttpResponse(status=401)
            response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        return JsonResponse({"user": oauth.user.get_username(), "scope": oauth.access_token.scope})

    @require_GET
    def metadata(request):
        base = request.build_absolute_uri("/").rstrip("/")
        return JsonResponse(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/o/authorize/",
                "token_endpoint": f"{base}/o/token/",
                "revocation_endpoint": f"{base}/o/revoke_token/",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none"],
                "scopes_supported": sorted(SCOPES),
            }
        )

    @require_GET
    def stats(request):
        with _lock:
            counts = {"authorization_code": 0, "refresh_token": 0, **_token_requests}
        return JsonResponse({"token_requests": counts, "total": sum(counts.values())})

    @csrf_exempt
    @require_POST
    def reset(request):
        with _lock:
            _token_requests.clear()
        return JsonResponse({"ok": True})

    @csrf_exempt
    @require_POST
    def delay(request):
        global _token_delay
        try:
            seconds = float(request.GET.get("seconds", "0"))
        except ValueError:
            return JsonResponse({"error": "seconds must be a number"}, status=400)
        with _lock:
            _token_delay = max(0.0, seconds)
        return JsonResponse({"ok": True, "seconds": _token_delay})

    global urlpatterns
    urlpatterns = [
        path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
        path("accounts/login/", auth_views.LoginView.as_view()),
        path(".well-known/oauth-authorization-server", metadata),
        path("api/whoami", whoami),
        path("test/stats", stats),
        path("test/reset", reset),
        path("test/delay", delay),
    ]


def seed():
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0, interactive=False)
    for name, password in USERS.items():
        user, _ = User.objects.get_or_create(username=name)
        user.set_password(password)
        user.save()
    Application.objects.update_or_create(
        client_id=CLIENT_ID,
        defaults={
            "name": "claude-agent (tests)",
            "client_type": Application.CLIENT_PUBLIC,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "skip_authorization": False,
            "algorithm": Application.NO_ALGORITHM,
            "redirect_uris": REDIRECT_URIS,
        },
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--access-token-seconds", type=int, default=5)
    parser.add_argument("--state-dir", help="holds the SQLite DB (default: a new temp dir)")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args()

    own_dir = args.state_dir is None
    state_dir = tempfile.mkdtemp(prefix="oauth-server-") if own_dir else args.state_dir
    os.makedirs(state_dir, exist_ok=True)
    try:
        configure(state_dir, args.access_token_seconds, args.verbose)
        build_urls()
        seed()

        from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
        from django.core.wsgi import get_wsgi_application

        server = ThreadedWSGIServer(("127.0.0.1", args.port), WSGIRequestHandler)
        server.set_app(get_wsgi_application())
        peer_http.serve_until_stopped(server, f"READY http://127.0.0.1:{server.server_address[1]}")
    finally:
        if own_dir:
            shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
