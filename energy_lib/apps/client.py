"""Who is visiting an app: a stable, keyed id of the visitor's browser, for rate limits and lockouts.

The apps' server (``energy serve``, :mod:`energy_lib.apps.serving`) gives every browser a
long-lived cookie holding a random id, signed with the server's cookie secret (tornado's
``set_secure_cookie``: a browser cannot forge another browser's id). On every app page it computes

    key = HMAC-SHA256(secret, browser id ‖ client address)

and hands it to the page's kernel in the request header :data:`HEADER`, which Voila passes to the
kernel as the environment variable :data:`ENVIRON` (``VoilaConfiguration.http_header_envs``):
at kernel start for a kernel started for the page, through ``voila.utils.wait_for_request()`` for
a preheated one. The server overwrites whatever a browser sends in that header, and the kernel
sees neither the id nor the address, only the key. The key is the same across reloads of the page
in one browser on one network; another browser, a private window, cleared cookies or another
network give another key (a visitor can shed a key, never take someone else's: limits keyed by it
must fail safe, e.g. lock the target of too many attempts per key *and* in total).

The keys of the cookie's signature and of the HMAC are derived from the workbook's secret key
(:mod:`energy_lib.core.keys`, each for this purpose alone), so a browser keeps its key across
restarts of the server and on every server of a city that shares the key; rotating the key
(``energy keys rotate``) gives every browser a new one.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets

from energy_lib.core import keys

__all__ = ["COOKIE", "HEADER", "ENVIRON", "secret", "cookie_secret", "new_browser_id", "browser_key", "client_key"]

COOKIE = "workbook_client"
"""The browser's signed cookie (a random id), set by the server on the first app page."""
COOKIE_DAYS = 400
"""[days] the cookie's lifetime: the longest browsers keep a cookie (Chrome caps it at 400)."""
HEADER = "X-Workbook-Client"
"""The request header the server writes the key into, for Voila to pass to the kernel."""
ENVIRON = "HTTP_X_WORKBOOK_CLIENT"
"""The key in the kernel's environment: Voila names a passed header as RFC 3875 does (4.1.18)."""


def secret() -> bytes:
    """The HMAC key of client ids, derived from the workbook's newest secret key.

    Raises
    ------
    energy_lib.core.keys.MissingKeyError
        Without a key (``energy serve`` checks first).
    """
    return keys.derive("apps:client-id", keys.ring()[-1])


def cookie_secret() -> bytes:
    """The key that signs the browsers' cookies (tornado's ``cookie_secret``), derived like
    :func:`secret` but for this purpose alone."""
    return keys.derive("apps:cookie-signing", keys.ring()[-1])


def new_browser_id() -> str:
    """A new browser's id: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


def browser_key(browser_id: str, address: str, key: bytes) -> str:
    """The keyed id of a browser at an address: HMAC-SHA256 of both, hexadecimal (64 characters).

    Parameters
    ----------
    browser_id : str
        The id in the browser's signed cookie.
    address : str
        The client's IP address as the server sees it.
    key : bytes
        The secret (:func:`secret`).
    """
    # a separator that neither part can hold, so that no two pairs give the same message
    message = f"{browser_id}\x1f{address}".encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@functools.cache
def _outside_the_server() -> str:
    return "local-" + secrets.token_hex(16)


@functools.cache
def client_key() -> str:
    """The keyed id of the browser this app kernel serves (see the module's docstring).

    In a preheated kernel the first call waits for the page's request (Voila's
    ``wait_for_request``): call it where the visitor acts (a button's callback), not in a cell
    that runs before anyone asked, or the kernel's work stops there until a visitor comes.

    Outside the apps' server (a test, a notebook in JupyterLab, a kernel whose server did not send
    the key) there is no visiting browser to tell apart: every call in this process gives the
    same random key, ``local-`` and 32 hexadecimal digits, new for each process.
    """
    if os.environ.get("VOILA_PREHEAT") == "True" and ENVIRON not in os.environ:
        from voila.utils import wait_for_request

        wait_for_request()  # sets the request's environment variables, ours among them
    return os.environ.get(ENVIRON) or _outside_the_server()
