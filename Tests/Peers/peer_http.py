"""What the test peers' HTTP servers share: an answer with its length, and serving until
SIGTERM or SIGINT once the READY line the tests wait for is out. Standard library only:
the scripted peers run where nothing else is installed."""

import json
import signal


def send(handler, status, body, content_type="application/json", headers=()):
    """Answers on `handler` (a BaseHTTPRequestHandler) with `status` and `body`: bytes as
    they are, otherwise JSON for application/json and UTF-8 text for any other type;
    Content-Length always, so a kept-alive client knows where the answer ends."""
    if isinstance(body, bytes):
        data = body
    elif content_type == "application/json":
        data = json.dumps(body).encode()
    else:
        data = body.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for name, value in headers:
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


class _Stop(Exception):
    pass


def serve_until_stopped(server, ready):
    """Prints `ready` (one line, flushed: the tests read it to learn the port), serves until
    SIGTERM or SIGINT, then closes the listening socket and returns."""
    def stop(signum, frame):
        raise _Stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(ready, flush=True)
    try:
        server.serve_forever()
    except _Stop:
        pass
    finally:
        server.server_close()
