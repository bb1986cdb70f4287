"""Bounded apps (issue 15) in a real Voila server and headless Chromium: a cap of 3 kernels with
the "busy, try again" page beyond it, preheated kernels within the cap, a closed page's kernel
ended by its shutdown request, a vanished page's by the culler, and the client key that the
server gives an app's kernel."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import psutil
import pytest
from phone import PHONE, assert_fits_a_phone

from energy_lib.apps.serving import serving_settings

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CAP = 3
ORPHAN_S = 15  # a vanished page's kernel lives at most this + one culler round (CULL_S)
CULL_S = 1
INDEX_HEADING = "광주 에너지 시민 앱"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _kernels(server: subprocess.Popen) -> set[int]:
    """Process ids of the server's kernels (what costs memory), running or starting."""
    found = set()
    for process in psutil.Process(server.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "ipykernel_launcher" in " ".join(process.cmdline()):
                found.add(process.pid)
    return found


def _until(condition: Callable[[], object], seconds: float, what: str, *, each: Callable[[], None] = lambda: None):
    """``condition()``'s first true value within ``seconds``; ``each()`` runs at every look."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        each()
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"not within {seconds} s: {what}")


@contextlib.contextmanager
def _server(command: Callable[[int], list[str]], env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """A Voila server (``command(port)``) answering on a free port; stopped afterwards."""
    with open(log, "w") as output:
        for _ in range(3):  # another test's kernel may take the free port first: try another
            port = _free_port()
            server = subprocess.Popen(command(port), cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
                                      env={**os.environ, **env})
            url = f"http://127.0.0.1:{port}"
            try:
                _until(lambda: server.poll() is not None or _answers(f"{url}/voila/tree"), 120, "the server answers")
            finally:
                if server.poll() is None and not _answers(f"{url}/voila/tree"):
                    server.kill()
            if server.poll() is None:
                break
        else:
            pytest.fail(f"the Voila server did not start (see {log})")
        try:
            yield url, server
        finally:
            server.terminate()
            server.wait(timeout=30)


def _status(url: str) -> dict:
    """The server's kernel counts (``/voila/api/workbook/kernels``, answered on loopback only)."""
    with urllib.request.urlopen(f"{url}/voila/api/workbook/kernels", timeout=5) as response:
        return json.load(response)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5)
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    """`energy serve` with a cap of 3 kernels (one preheated per app, within the cap; as many may
    warm up at once, so that only the cap turns visitors away) and a short orphan timeout; once its
    pool has settled (3 kernels that have run their notebooks: the other two apps' starts refused)."""
    ARTIFACTS.mkdir(exist_ok=True)
    site = tmp_path_factory.mktemp("site")  # the index app shows no report
    command = lambda port: [sys.executable, "-m", "energy_lib.cli", "serve", "--port", str(port), "--site", str(site),  # noqa: E731
                            "--max-kernels", str(CAP), "--max-warming", str(CAP), "--orphan-timeout", str(ORPHAN_S),
                            "--cull-interval", str(CULL_S)]
    env = {"ENERGY_BOARD_URL": f"sqlite:///{tmp_path_factory.mktemp('board') / 'board.sqlite3'}",
           "ENERGY_LIVE_DIR": str(tmp_path_factory.mktemp("live"))}
    with _server(command, env, ARTIFACTS / "voila-bounded.log") as (url, server):
        _until(lambda: _status(url) == {"kernels": CAP, "cap": CAP, "warming": 0, "preheated": CAP, "pages": 0}, 180,
               f"the pool fills the cap ({CAP} kernels)")
        yield url, server


def test_a_cap_of_three_serves_three_pages_and_asks_two_visitors_to_come_back(apps, browser):
    url, server = apps
    most = []
    count = lambda: most.append(len(_kernels(server)))  # noqa: E731 - sampled at every step
    context = browser.new_context(viewport=PHONE)
    pages, answers = [], []
    for _ in range(5):
        page = context.new_page()
        response = page.goto(f"{url}/voila/render/index.ipynb", wait_until="commit")
        if response.status == 200:
            page.wait_for_selector(f"text={INDEX_HEADING}", timeout=60_000)
        else:
            page.wait_for_selector("[data-testid=busy-en]", timeout=10_000)
        answers.append((response.status, response.headers.get("retry-after")))
        pages.append(page)
        count()
    retry = str(serving_settings().retry_after_s)
    assert answers == [(200, None)] * 3 + [(503, retry)] * 2
    busy = pages[3]
    assert busy.locator("html").get_attribute("lang") == "ko"
    assert "다시 시도해 주세요" in busy.locator("[data-testid=busy-ko]").inner_text()
    assert "try again" in busy.locator("[data-testid=busy-en][lang=en]").inner_text()
    assert_fits_a_phone(busy)
    busy.screenshot(path=str(ARTIFACTS / "app-busy-390.png"), full_page=True)
    assert {"workbook_client", "_xsrf"} <= {cookie["name"] for cookie in context.cookies()}

    opened = _kernels(server)  # the three pages' kernels (the pool's gave way to them)
    assert len(opened) == CAP
    # a page closed as a browser closes it sends its shutdown request: its kernel ends before the
    # culler could have taken it (ORPHAN_S)
    pages[0].close(run_before_unload=True)
    _until(lambda: len(opened & _kernels(server)) == 2, ORPHAN_S - 5, "the closed page's kernel ends", each=count)
    # pages that vanish without a word (a phone drops a tab): the culler ends their kernels
    for page in pages[1:]:
        page.close(run_before_unload=False)
    _until(lambda: not opened & _kernels(server), ORPHAN_S + CULL_S + 10, "the vanished pages' kernels end", each=count)
    # what runs then is the pool filling again; a kernel's entry goes a moment after its process
    _until(lambda: _status(url)["pages"] == 0, 10, "no page's kernel is counted", each=count)
    context.close()
    assert max(most) <= CAP, most


@pytest.fixture(scope="module")
def key_app(tmp_path_factory):
    """WorkbookVoila over a one-cell notebook that shows its kernel's client key, preheated (the
    first page gets the preheated kernel, which waits for the request; a reload gets a new one)."""
    folder = tmp_path_factory.mktemp("key-app")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from IPython.display import HTML\nfrom energy_lib.apps.client import client_key\n"
        "HTML(f\"<p id='client-key'>{client_key()}</p>\")")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "key.ipynb")
    command = lambda port: [sys.executable, "-m", "energy_lib.apps.serving", str(folder), f"--port={port}",  # noqa: E731
                            "--no-browser", "--Voila.ip=127.0.0.1", "--preheat_kernel=True", "--pool_size=1",
                            "--WorkbookKernelManager.max_kernels=4", "--WorkbookKernelManager.max_warming=4"]
    with _server(command, {}, ARTIFACTS / "voila-client-key.log") as (url, _):
        _until(lambda: _status(url)["preheated"] == 1, 120, "a kernel is preheated")
        yield f"{url}/voila/render/key.ipynb"


def _key(page, url: str) -> str:
    page.goto(url)
    return page.locator("#client-key").inner_text(timeout=60_000)


def test_the_client_key_is_stable_across_reloads_and_differs_between_browsers(key_app, browser):
    first = browser.new_context()
    page = first.new_page()
    key = _key(page, key_app)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert _key(page, key_app) == key  # a reload (the first kernel's page is left)
    cookie = next(c for c in first.cookies() if c["name"] == "workbook_client")
    assert cookie["httpOnly"] and cookie["expires"] > time.time() + 300 * 86400
    other = browser.new_context()
    assert _key(other.new_page(), key_app) not in (key, "")
    # a browser cannot claim another's key by sending the header the server passes it in
    forger = browser.new_context(extra_http_headers={"X-Workbook-Client": key})
    assert _key(forger.new_page(), key_app) != key
    for context in (first, other, forger):
        context.close()
