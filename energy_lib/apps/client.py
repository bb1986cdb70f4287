"""Who is visiting an app, as one stable keyed id per browser (the *client key*).

The board counts reports and rate limits per client key, and "my savings" counts failed code
attempts per client key, so that reloading a page (a new kernel) does not make a new person.

This module reads the key that the serving side hands to the kernel in ``$ENERGY_CLIENT_KEY``;
without it (a notebook run by hand, a test) the kernel's own session id stands in, which is
stable for that kernel only.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["client_key"]


def client_key() -> str:
    """The visiting browser's client key: ``$ENERGY_CLIENT_KEY``, else this kernel's session id.

    Returns
    -------
    str
        Non-empty; the board and the household lookup keep it only as a keyed hash.
    """
    given = os.environ.get("ENERGY_CLIENT_KEY", "").strip()
    if given:
        return given
    try:
        from ipykernel.connect import get_connection_file

        # The connection file is named after the kernel's id (kernel-<uuid>.json), unique per page
        # load; $JPY_SESSION_NAME is not (it is the notebook's path, the same for every visitor).
        return Path(get_connection_file()).stem
    except (ImportError, RuntimeError):  # not inside a running kernel
        return f"process-{os.getpid()}"
