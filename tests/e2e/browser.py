"""The Chromium that the browser tests drive, and how `make test` gets one.

Playwright drives Debian's ``chromium`` when it is on PATH (Playwright cannot download its own
browser everywhere, e.g. behind a proxy), else the Chromium that ``playwright install chromium``
downloaded. ``make test`` runs this file first (``python tests/e2e/browser.py --install``): when
neither is there it installs Debian's chromium if apt-get can run without a password (as root, or
with password-less sudo), else tries Playwright's download, else stops at once with one line
saying what to install. The test suite never skips the browser tests: without a browser they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["INSTALL_HINT", "executable", "install"]

INSTALL_HINT = ("the browser tests need Chromium: install it with `sudo apt-get install chromium` "
                "(or `.venv/bin/python -m playwright install chromium`), then run `make test` again")
"""The one line `make test` and the tests print when there is no browser."""


def _playwright_chromium() -> str | None:
    """Playwright's own Chromium, if ``playwright install chromium`` downloaded it."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # no driver or no browser: there is no Playwright Chromium
        return None
    return path if path and Path(path).exists() else None


def executable() -> str | None:
    """Path of the Chromium to drive: Debian's ``chromium`` on PATH, else Playwright's own; None
    when there is neither."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or _playwright_chromium()


def _run(command: list[str], timeout: float) -> bool:
    try:
        return subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _apt_prefix() -> list[str] | None:
    """How to run apt-get without a password: directly as root, ``sudo -n`` when sudo needs no
    password; None otherwise (or without apt-get)."""
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and _run(["sudo", "-n", "true"], timeout=10):
        return ["sudo", "-n"]
    return None


def install() -> str | None:
    """A Chromium for the tests: the one there is, else Debian's package through apt-get (when it
    runs without a password), else Playwright's download. Returns its path, None when all failed."""
    found = executable()
    if found:
        return found
    prefix = _apt_prefix()
    if prefix is not None:
        print("installing Debian's chromium for the browser tests (apt-get install chromium) ...", file=sys.stderr)
        if _run([*prefix, "apt-get", "update", "-qq"], timeout=600) and \
                _run([*prefix, "apt-get", "install", "-y", "-qq", "chromium"], timeout=1200) and executable():
            return executable()
    print("downloading Playwright's Chromium for the browser tests (playwright install chromium) ...", file=sys.stderr)
    if _run([sys.executable, "-m", "playwright", "install", "chromium"], timeout=600):
        return executable()
    return None


if __name__ == "__main__":
    path = install() if "--install" in sys.argv[1:] else executable()
    if path is None:
        print(f"error: {INSTALL_HINT}", file=sys.stderr)
        sys.exit(1)
    print(f"browser tests use {path}")
