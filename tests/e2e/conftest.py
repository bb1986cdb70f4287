"""The published site, built once from the small demo, served over HTTP, and a headless Chromium."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading

import pytest

from energy_lib import publish
from energy_lib.wards import wards

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROKEN = publish.Page("area.ipynb", {"lang": "ko", "level": "ward", "code": "0000000000"}, "ko/dong/0000000000.html",
                      "없는 동", "dong")


@pytest.fixture(scope="session")
def site(published) -> dict:
    """City, one gu, two dongs and one building type in both languages, plus a page that fails."""
    table = wards()
    pages = [p for p in publish.plan(table, ["apartment"])
             if p.section in ("city", "building_type") or p.path.endswith(("/29140.html", "/2914074500.html"))
             or p.path == "ko/dong/2911052500.html"]
    summary = publish.build(published["site"], [*pages, BROKEN], published["manifest"]["data_hash"], workers=2)
    return {**published, "pages": pages, "summary": summary}


@pytest.fixture(scope="session")
def server(site):
    """The site over HTTP (browsers load the site's fonts only over HTTP, as on a real server)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site["site"]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is needed for the browser tests (.ci/run installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()
