"""claude_agent.py against the built agent over its real socket, situation by situation
(contrib/README.md's table), and `claude_agent.py token` beside `claude-agent token`."""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

import claude_agent
from conftest import wait_until

SCRIPT = Path(claude_agent.__file__).resolve()


def add(agent, name, token, **fields):
    with agent.client() as client:
        return client.add_account(name, token, **fields)


def error_of(call) -> claude_agent.AgentError:
    with pytest.raises(claude_agent.AgentError) as caught:
        call()
    return caught.value


# -- the situations ----------------------------------------------------------------------

def test_happy_path_returns_the_held_token_and_its_headers(agent):
    # A refresh token ties the account to the default provider, whose headers come along.
    add(agent, "work", "tok-work", expires_in=3600, scope="user:inference user:profile", account_id=3,
        refresh_token="rt-work")
    token = claude_agent.get_token(["user:inference"])
    assert (token.access_token, token.account, token.account_id, token.token_type) == ("tok-work", "work", 3, "Bearer")
    assert token.scopes == ("user:inference", "user:profile")
    assert token.expires_at.endswith("Z")
    assert "tok-work" not in repr(token)
    with agent.client() as client:
        raw = client.call("token.get", {"scopes": ["user:inference"]})
    provider_headers = raw.get("headers") or {}
    assert token.headers == provider_headers
    assert claude_agent.auth_headers() == {"Authorization": "Bearer tok-work", **provider_headers}


def test_no_agent_is_agent_not_running(monkeypatch, tmp_path):
    monkeypatch.setenv("CLAUDE_AGENT_SOCK", str(tmp_path / "absent.sock"))
    error = error_of(lambda: claude_agent.get_token())
    assert error.code == "agent_not_running"
    assert "absent.sock" in error.message
    assert error_of(claude_agent.status).code == "agent_not_running"


def test_locked_agent_refuses_tokens_but_answers_status(agent):
    add(agent, "work", "tok-work", expires_in=3600)
    with agent.client() as client:
        client.lock("correct horse")
        assert error_of(lambda: claude_agent.get_token()).code == "locked"
        assert error_of(claude_agent.list_accounts).code == "locked"
        assert claude_agent.status()["locked"] is True
        assert error_of(lambda: client.unlock("wrong")).code == "denied"
        client.unlock("correct horse")
    assert claude_agent.get_token().access_token == "tok-work"


def test_no_token_and_unknown_account(agent):
    assert error_of(lambda: claude_agent.get_token(["user:inference"])).code == "no_token"
    add(agent, "work", "tok-work", expires_in=3600, scope="user:profile")
    assert error_of(lambda: claude_agent.get_token(["user:inference"])).code == "no_token"
    assert error_of(lambda: claude_agent.get_token(account="nobody")).code == "not_found"


def test_expired_without_refresh_token(agent):
    # Within the agent's expiry skew (60 s) and without a refresh token, it could never be
    # handed out: the agent refuses to add it, `expired` (Protocol.md, account.add).
    error = error_of(lambda: add(agent, "old", "tok-old", expires_in=30))
    assert error.code == "expired"
    assert "tok-old" not in error.message


def test_wait_times_out(agent):
    error = error_of(lambda: claude_agent.get_token(["user:inference"], wait=True, timeout=1))
    assert error.code == "timeout"


def pending_request(agent):
    with agent.client() as client:
        return wait_until(lambda: next(iter(client.list_requests()), None), "a pending token request")


def test_denied_while_waiting(agent):
    outcome = {}

    def wait():
        try:
            # The longest wait there is: its deadline must still be one the agent takes.
            outcome["token"] = claude_agent.get_token(["user:inference"], wait=True, timeout=3600)
        except claude_agent.AgentError as error:
            outcome["error"] = error

    waiter = threading.Thread(target=wait)
    waiter.start()
    request = pending_request(agent)
    assert request["scopes"] == ["user:inference"]
    with agent.client() as client:
        assert client.deny_request(request["request_id"], reason="not today")["status"] == "denied"
    waiter.join(timeout=60)
    assert not waiter.is_alive()
    assert "token" not in outcome and outcome["error"].code == "denied"


def test_approved_while_waiting(agent):
    add(agent, "work", "tok-work", expires_in=3600, scope="user:inference", account_id=3)
    outcome = {}

    def wait():
        outcome["token"] = claude_agent.get_token(["user:admin"], wait=True, timeout=60)

    waiter = threading.Thread(target=wait)
    waiter.start()
    request = pending_request(agent)
    with agent.client() as client:
        # Adding a covering token lets the approval hand it out at once.
        client.add_account("admin", "tok-admin", expires_in=3600, scope="user:admin", account_id=4)
        assert client.select_account(request["request_id"], 4)["status"] == "approved"
    waiter.join(timeout=60)
    assert outcome["token"].access_token == "tok-admin"


# -- auth precedence (the Swift AuthResolver's) --------------------------------------------

def test_auth_precedence(agent, monkeypatch):
    add(agent, "work", "tok-work", expires_in=3600, scope="user:inference")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-key")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "bearer-env")
    assert claude_agent.auth_headers() == {"Authorization": "Bearer bearer-env"}
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "")  # empty counts as unset, as in the Swift resolver
    assert claude_agent.auth_headers() == {"x-api-key": "sk-key"}
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert claude_agent.auth_headers()["Authorization"] == "Bearer tok-work"
    environ = {"CLAUDE_AGENT_SOCK": agent.socket, "ANTHROPIC_AUTH_TOKEN": "given"}
    assert claude_agent.auth_headers(environ=environ) == {"Authorization": "Bearer given"}


def test_list_accounts_and_status(agent):
    add(agent, "a", "tok-a", expires_in=3600)
    add(agent, "b", "tok-b", expires_in=3600)
    accounts = claude_agent.list_accounts()
    assert [a["account"] for a in accounts] == ["a", "b"]
    assert "tok-a" not in json.dumps(accounts)
    assert claude_agent.status()["accounts"] == 2


# -- a strict stand-in for what the built agent cannot show yet ---------------------------

class ScriptedAgent:
    """Answers each request with the next scripted answer after checking the request.
    Used for paging (account.list with next_cursor, Protocol.md's paging contract) and
    for error codes a newer agent may send."""

    def __init__(self, directory, answers):
        self.path = os.path.join(directory, "scripted.sock")
        self.answers = list(answers)
        self.requests = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(1)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        connection, _ = self.server.accept()
        with connection:
            for answer in self.answers:
                (length,) = struct.unpack(">I", connection.recv(4, socket.MSG_WAITALL))
                request = json.loads(connection.recv(length, socket.MSG_WAITALL))
                assert isinstance(request["id"], int) and request["id"] >= 1 and isinstance(request["op"], str)
                self.requests.append(request)
                payload = json.dumps({"id": request["id"], **answer}).encode()
                connection.sendall(struct.pack(">I", len(payload)) + payload)

    def close(self):
        self.thread.join(timeout=10)
        self.server.close()


def summary(name):
    return {"id": 1, "account": name, "scopes": [], "expires_at": None, "fingerprint": "SHA256:x",
            "has_refresh_token": False, "state": "ok", "forget_at": None}


def test_list_accounts_follows_next_cursor(tmp_path):
    pages = [{"ok": True, "result": {"accounts": [summary("a"), summary("b")], "next_cursor": "c1"}},
             {"ok": True, "result": {"accounts": [summary("c")], "next_cursor": None}}]
    scripted = ScriptedAgent(str(tmp_path), pages)
    with claude_agent.AgentClient(scripted.path) as client:
        assert [a["account"] for a in client.list_accounts()] == ["a", "b", "c"]
    scripted.close()
    assert "cursor" not in scripted.requests[0] and scripted.requests[1]["cursor"] == "c1"
    assert [r["op"] for r in scripted.requests] == ["account.list", "account.list"]


def test_a_repeated_cursor_is_a_protocol_violation(tmp_path):
    page = {"ok": True, "result": {"accounts": [], "next_cursor": "same"}}
    scripted = ScriptedAgent(str(tmp_path), [page, page])
    with claude_agent.AgentClient(scripted.path) as client:
        assert error_of(client.list_accounts).code == "protocol_violation"
    scripted.close()


@pytest.mark.parametrize("code, exit_code", [("rotation_lost", 4), ("bad_request", 2), ("busy", 7),
                                             ("a_code_from_the_future", 7)])
def test_error_codes_pass_through(tmp_path, code, exit_code):
    scripted = ScriptedAgent(str(tmp_path), [{"ok": False, "error": {"code": code, "message": "why"}}])
    result = subprocess.run([sys.executable, str(SCRIPT), "token", "-a", scripted.path],
                            capture_output=True, text=True, timeout=60)
    scripted.close()
    assert (result.returncode, result.stdout, result.stderr) == (exit_code, "", f"claude-agent: {code}: why\n")
    assert scripted.requests[0]["op"] == "token.get" and isinstance(scripted.requests[0]["timeout_ms"], int)


# -- `python3 claude_agent.py token` behaves as `claude-agent token` -----------------------

def both(agent, *args):
    ours = subprocess.run([sys.executable, str(SCRIPT), "token", *args], env=agent.env,
                          capture_output=True, text=True, timeout=60)
    theirs = agent.cli("token", *args)
    return ours, theirs


def assert_same(ours, theirs):
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout)
    if theirs.returncode not in (0, 2):  # the same error code on stderr
        assert ours.stderr.split(":")[:2] == theirs.stderr.split(":")[:2], (ours.stderr, theirs.stderr)


def test_token_command_matches_the_cli(agent):
    for args in [(), ("--scope", "user:inference")]:
        assert_same(*both(agent, *args))  # no token: exit 3
    add(agent, "work", "tok-work", expires_in=3600, scope="user:inference user:profile", account_id=3,
        refresh_token="rt-work")  # the default provider's, with its headers
    for args in [(), ("--scope", "user:inference user:profile"), ("--account", "3"), ("--account", "work"),
                 ("--account", "nobody"), ("--account", "bad name!"), ("--account", "99999999999"),
                 ("--scope", "user:admin"), ("--json", "--header")]:
        assert_same(*both(agent, *args))
    ours, theirs = both(agent, "--header")
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout.splitlines()[0] == theirs.stdout.splitlines()[0] == "Authorization: Bearer tok-work"
    assert sorted(ours.stdout.splitlines()) == sorted(theirs.stdout.splitlines())
    ours, theirs = both(agent, "--json", "--account", "work")
    assert ours.returncode == theirs.returncode == 0
    ours_json, theirs_json = json.loads(ours.stdout), json.loads(theirs.stdout)
    with agent.client() as client:
        provider_headers = client.call("token.get", {}).get("headers") or {}
    assert ours_json.pop("headers", {}) == theirs_json.pop("headers", {}) == provider_headers
    assert ours_json == theirs_json
    assert ours_json["scope"] == "user:inference user:profile"
    with agent.client() as client:
        client.lock("pw")
    assert_same(*both(agent, "--account", "work"))  # locked: exit 5
    ours, theirs = both(agent, "--wait", "--timeout", "1", "--scope", "user:none")
    assert ours.returncode == theirs.returncode == 5  # still locked


def test_token_command_without_agent(tmp_path):
    env = {**os.environ, "CLAUDE_AGENT_SOCK": str(tmp_path / "absent.sock")}
    result = subprocess.run([sys.executable, str(SCRIPT), "token"], env=env, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("claude-agent: agent_not_running: no agent at ")


def test_token_command_wait_times_out_like_the_cli(agent):
    ours, theirs = both(agent, "--wait", "--timeout", "1", "--scope", "user:inference")
    assert ours.returncode == theirs.returncode == 6
    assert ours.stdout == theirs.stdout == ""


def test_token_command_usage_errors():
    with tempfile.TemporaryDirectory() as directory:
        env = {**os.environ, "CLAUDE_AGENT_SOCK": os.path.join(directory, "absent.sock")}
        for args in [("--json", "--header"), ("--timeout", "soon"), ("--bogus",), ()]:
            argv = [sys.executable, str(SCRIPT), *(["token", *args] if args else [])]
            result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
            assert (result.returncode, result.stdout) == (2, ""), args
            assert result.stderr.startswith("claude-agent: usage: ") and result.stderr.count("\n") == 1, result.stderr


def test_token_command_refresh_like_the_cli(agent):
    ours, theirs = both(agent, "--refresh", "--account", "nosuch")
    assert ours.returncode == theirs.returncode == 3
    assert ours.stderr == theirs.stderr
