"""The published site over HTTP, for the browser tests."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading


@contextlib.contextmanager
def http_server(directory):
    """``directory`` over HTTP on a free port (browsers load the site's fonts only over HTTP, as on
    a real server); yields the base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
