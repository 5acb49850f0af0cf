"""Calls the Messages API with the real `anthropic` SDK, as a user of it would, with the
token and headers `claude-agent token --json` prints (read from stdin).

    claude-agent token --json | .venv/bin/python Tests/Peers/sdk_call.py --base-url URL [--no-headers]

Prints `OK <text of the reply>` and exits 0 on a 200; prints `ERROR <status> <message>`
and exits 1 when the API refuses. --no-headers leaves the token's headers out, to show
what the API does without `anthropic-beta: oauth-2025-04-20`.
"""

import argparse
import json
import sys

import anthropic


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--no-headers", action="store_true")
    args = parser.parse_args()
    token = json.load(sys.stdin)
    client = anthropic.Anthropic(
        auth_token=token["access_token"],
        default_headers={} if args.no_headers else token.get("headers", {}),
        base_url=args.base_url,
        max_retries=0,
    )
    try:
        message = client.messages.create(
            model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "Hello"}])
    except anthropic.APIStatusError as error:
        body = error.body if isinstance(error.body, dict) else {}
        print(f"ERROR {error.status_code} {body.get('error', {}).get('message', '')}", flush=True)
        return 1
    print("OK " + "".join(block.text for block in message.content if block.type == "text"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
