"""Calls the local endpoint with the real `anthropic` SDK, as a user's program would.

`base_url` is the endpoint and the key a placeholder (or `claude-agent:NAME` to pick an
account). Prints one JSON line per call: {"call": ..., "text": ...} or {"call": ...,
"error": ..., "status": ...}; exits 0 when every call succeeded.
"""
import argparse
import json
import sys
import time
import warnings

import anthropic

# The SDK warns about model names it considers old; the mock accepts any.
warnings.filterwarnings("ignore", category=DeprecationWarning)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--key", default="placeholder")
    parser.add_argument("--as-auth-token", action="store_true",
                        help="pass the key as auth_token (Authorization: Bearer, ANTHROPIC_AUTH_TOKEN) instead of api_key")
    parser.add_argument("--calls", default="create,stream", help="comma-separated: create, stream")
    parser.add_argument("--beta", help="an anthropic-beta flag of the client's own, sent with each call")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between rounds")
    args = parser.parse_args()
    credential = {"auth_token": args.key} if args.as_auth_token else {"api_key": args.key}
    headers = {"anthropic-beta": args.beta} if args.beta else None
    client = anthropic.Anthropic(base_url=args.base_url, max_retries=0, timeout=30, default_headers=headers, **credential)
    ok = True
    for round_number in range(args.repeat):
        if round_number and args.pause:
            time.sleep(args.pause)
        for call in args.calls.split(","):
            try:
                if call == "create":
                    message = client.messages.create(model="claude-sonnet-4-6", max_tokens=64,
                                                     messages=[{"role": "user", "content": "Hello"}])
                    text = "".join(block.text for block in message.content if block.type == "text")
                else:
                    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=64,
                                                messages=[{"role": "user", "content": "Hello"}]) as stream:
                        text = "".join(stream.text_stream)
                print(json.dumps({"call": call, "text": text}), flush=True)
            except anthropic.APIStatusError as error:
                ok = False
                print(json.dumps({"call": call, "status": error.status_code, "error": str(error)}), flush=True)
            except anthropic.APIError as error:
                ok = False
                print(json.dumps({"call": call, "status": None, "error": str(error)}), flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
