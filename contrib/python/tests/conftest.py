"""Fixtures: the built agent (claude-agentd) on a real socket in a private XDG_RUNTIME_DIR.

The binaries come from CLAUDE_AGENT_BIN_DIR, else the repository's .build/debug; a missing
binary fails the run (scripts/test builds them first).
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import claude_agent  # noqa: E402

REPOSITORY = HERE.parents[2]
POLL_SECONDS = 0.02
POLL_ATTEMPTS = 500  # 10 s in all: every wait for the agent is bounded


def binaries() -> Path:
    directory = Path(os.environ.get("CLAUDE_AGENT_BIN_DIR") or REPOSITORY / ".build" / "debug")
    for name in ("claude-agentd", "claude-agent"):
        if not (directory / name).is_file():
            pytest.fail(f"{directory / name} is missing: run `swift build` first (or set CLAUDE_AGENT_BIN_DIR)")
    return directory


def wait_until(predicate, what: str):
    for _ in range(POLL_ATTEMPTS):
        value = predicate()
        if value:
            return value
        time.sleep(POLL_SECONDS)
    pytest.fail(f"gave up waiting for {what}")


class Agent:
    """A running claude-agentd, stopped (SIGTERM) at the end of the test."""

    def __init__(self, runtime_dir: str, extra_args=()):
        self.bin = binaries()
        self.runtime_dir = runtime_dir
        self.socket = os.path.join(runtime_dir, "claude-agent", "agent.sock")
        self.env = {**os.environ, "XDG_RUNTIME_DIR": runtime_dir, "CLAUDE_AGENT_SOCK": self.socket}
        for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
            self.env.pop(name, None)
        self.log = open(os.path.join(runtime_dir, "agent.log"), "wb")
        self.process = subprocess.Popen([str(self.bin / "claude-agentd"), *extra_args], env=self.env,
                                        stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        wait_until(lambda: os.path.exists(self.socket) or self.process.poll() is not None, "the agent's socket")
        if self.process.poll() is not None:
            pytest.fail(f"claude-agentd exited {self.process.returncode}: {Path(self.log.name).read_text()}")

    def client(self) -> claude_agent.AgentClient:
        return claude_agent.AgentClient(self.socket)

    def cli(self, *args, stdin=None):
        return subprocess.run([str(self.bin / "claude-agent"), *args], env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=60)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture
def agent(monkeypatch):
    with tempfile.TemporaryDirectory(prefix="claude-agent-py-") as runtime_dir:
        os.chmod(runtime_dir, 0o700)
        running = Agent(runtime_dir)
        for name, value in running.env.items():
            if name in ("XDG_RUNTIME_DIR", "CLAUDE_AGENT_SOCK"):
                monkeypatch.setenv(name, value)
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
        try:
            yield running
        finally:
            running.stop()
