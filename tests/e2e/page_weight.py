"""A page's first load as a phone sees it: bytes transferred with an empty cache, and where from.

``first_load`` opens the page in a fresh browser context (no cache, no cookies) at 390 × 844 and
counts, through the Chrome DevTools Protocol, every response's bytes on the wire
(``Network.loadingFinished.encodedDataLength``: headers and body as sent, compressed if the
server compressed) and the bytes of the WebSocket messages it received (a Voila app's widgets
and outputs come over its kernel's WebSocket). DevTools reports WebSocket messages decompressed:
when the server accepted permessage-deflate (RFC 7692) each message is counted as its size
deflated on its own (zlib level 6, as tornado sends it; the server, which keeps its compression
context between messages, sends at most about that), else as received. It also lists every URL
the page asked for, so a test can check that nothing leaves the server.

Run on its own to measure pages of a running server (docs/benchmarks.md)::

    .venv/bin/python tests/e2e/page_weight.py http://127.0.0.1:8000/ko/city.html ...
"""

from __future__ import annotations

import base64
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["PHONE", "Load", "first_load", "deflated", "external", "voila_ready", "until_quiet"]

PHONE = {"width": 390, "height": 844}
"""The phone viewport of issue 14 [CSS px]."""

LOCAL_HOSTS = ("127.0.0.1", "localhost")


@dataclass
class Load:
    """What a first load fetched: bytes of HTTP responses and of WebSocket messages [B], and the
    URLs requested (data: and blob: URLs are not requests and are left out)."""

    http_bytes: int = 0
    websocket_bytes: int = 0
    websocket_deflate: bool = False
    urls: list[str] = field(default_factory=list)
    by_url: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Every byte the page received [B]."""
        return self.http_bytes + self.websocket_bytes

    def largest(self, count: int = 5) -> list[tuple[str, int]]:
        """The ``count`` largest responses, for a failure message."""
        return sorted(self.by_url.items(), key=lambda item: -item[1])[:count]


def deflated(data: bytes) -> bytes:
    """``data`` as one permessage-deflate message (RFC 7692, 7.2.1: raw DEFLATE, sync flush, the
    final 00 00 ff ff removed) at zlib's level 6."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


def external(urls: list[str]) -> list[str]:
    """The URLs that leave this machine (not 127.0.0.1 or localhost)."""
    return [url for url in urls if urlsplit(url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(url).hostname not in LOCAL_HOSTS]


def first_load(browser, url: str, ready: Callable | None = None, *, viewport: dict = PHONE,
               keep_open: bool = False):
    """Open ``url`` in a fresh context (empty cache) and measure its first load.

    Parameters
    ----------
    browser : playwright.sync_api.Browser
    url : str
    ready : callable, optional
        Called with the page after navigation; returns when the page is complete (e.g. waits for
        an app's output). Then the page's fonts are awaited and the network left to settle.
    keep_open : bool
        Return ``(load, page)`` with the page still open (its context closes with the page's
        ``context.close()``); else ``load`` only.
    """
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.setCacheDisabled", {"cacheDisabled": True})
    load, requested = Load(), {}

    def sent(event):
        requested[event["requestId"]] = event["request"]["url"]
        if not event["request"]["url"].startswith(("data:", "blob:")):
            load.urls.append(event["request"]["url"])

    def finished(event):
        load.http_bytes += int(event["encodedDataLength"])
        address = requested.get(event["requestId"], "?")
        if not address.startswith(("data:", "blob:")):
            load.by_url[address] = load.by_url.get(address, 0) + int(event["encodedDataLength"])

    def handshake(event):
        headers = {name.lower(): value for name, value in event["response"].get("headers", {}).items()}
        load.websocket_deflate = "permessage-deflate" in headers.get("sec-websocket-extensions", "")

    def websocket(event):
        frame = event["response"]
        data = base64.b64decode(frame["payloadData"]) if frame.get("opcode") == 2 else frame["payloadData"].encode()
        load.websocket_bytes += len(deflated(data)) if load.websocket_deflate else len(data)

    def opened(event):
        load.urls.append(event["url"])

    session.on("Network.requestWillBeSent", sent)
    session.on("Network.loadingFinished", finished)
    session.on("Network.webSocketHandshakeResponseReceived", handshake)
    session.on("Network.webSocketFrameReceived", websocket)
    session.on("Network.webSocketCreated", opened)
    page.goto(url, wait_until="load")
    if ready is not None:
        ready(page)
    page.evaluate("document.fonts.ready.then(() => true)")
    page.wait_for_load_state("networkidle")
    until_quiet(page, 500)  # late font and image requests of the last layout
    if keep_open:
        return load, page
    context.close()
    return load


_QUIET = """quiet => {
    const count = performance.getEntriesByType('resource').length
        + document.querySelectorAll('.jupyter-widgets, .jp-OutputArea-output').length;
    const now = performance.now();
    if (window.__settledCount !== count) { window.__settledCount = count; window.__settledSince = now; return false; }
    return now - window.__settledSince >= quiet;
}"""


def until_quiet(page, quiet_ms: int, *, timeout_ms: int = 30_000) -> None:
    """Wait until the page has started no request and drawn no widget or output for ``quiet_ms``
    [ms], within ``timeout_ms`` [ms]: a condition with a deadline, not a fixed pause."""
    page.evaluate("() => { delete window.__settledCount; }")
    page.wait_for_function(_QUIET, arg=quiet_ms, polling=100, timeout=timeout_ms)


def voila_ready(page, quiet_ms: int = 1000) -> None:
    """A Voila page is complete: its cells are shown (``#rendered_cells``) and its widgets and
    requests have been still for ``quiet_ms`` [ms]."""
    page.wait_for_selector("#rendered_cells", state="visible", timeout=120_000)
    until_quiet(page, quiet_ms, timeout_ms=60_000)


if __name__ == "__main__":
    from browser import executable
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable(), args=["--no-sandbox"])
        for address in sys.argv[1:]:
            # a Voila app shows its cells once the kernel has run them; its widgets follow
            measured = first_load(launched, address, voila_ready if "/voila/render/" in address else None)
            print(f"{address}\t{measured.total:,} B: {measured.http_bytes:,} B over HTTP, {measured.websocket_bytes:,} B over "
                  f"WebSocket{' (deflated)' if measured.websocket_deflate else ''}\t"
                  f"{len(measured.urls)} requests\texternal: {external(measured.urls) or 'none'}")
            for name, size in measured.largest(4):
                print(f"    {size:>10,} B  {name[:100]}")
        launched.close()
