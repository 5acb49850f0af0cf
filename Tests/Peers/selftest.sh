#!/usr/bin/env bash
# Self-test of the test peers, without the Swift code: starts oauth_server.py
# and two control_browser.py instances, then runs selftest.py against them.
# Exits 0 only if every check passes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
scripts/test-peers-setup
py=.venv/bin/python
token_seconds=2
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# start NAME COMMAND...: runs it in the background and sets $url from its READY line.
start() {
  local name=$1 word=""; shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  for _ in $(seq 300); do
    read -r word url <"$tmp/$name.out" || true
    [[ $word == READY ]] && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "selftest: $name did not start" >&2
  cat "$tmp/$name.err" >&2
  exit 1
}

start server $py Tests/Peers/oauth_server.py --port 0 --access-token-seconds $token_seconds --state-dir "$tmp/state"
server=$url; server_pid=${pids[-1]}
start control $py Tests/Peers/control_browser.py --port 0 --log "$tmp/control.log" \
  --accounts '1=alice:alice-password,2=bob:bob-password,3=carol:carol-password' --deny-accounts 3
control=$url
start failing $py Tests/Peers/control_browser.py --port 0 --accounts '1=alice:alice-password' --fail-status 500
failing=$url

status=0
$py Tests/Peers/selftest.py --server "$server" --control "$control" --control-log "$tmp/control.log" \
  --control-failing "$failing" --access-token-seconds $token_seconds || status=1

# The servers must stop cleanly on SIGTERM and print nothing but READY on stdout.
kill -TERM "$server_pid"
if wait "$server_pid"; then echo "ok   server exits 0 on SIGTERM"; else echo "FAIL server exit status $?"; status=1; fi
if [[ $(wc -l <"$tmp/server.out") == 1 ]]; then echo "ok   server stdout is the READY line"; else
  echo "FAIL server stdout:"; cat "$tmp/server.out"; status=1; fi
if [[ -s $tmp/server.err ]]; then echo "server stderr:"; cat "$tmp/server.err"; fi
exit $status
