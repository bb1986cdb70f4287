"""Configuration files shipped with the library (``energy_lib/config/*.toml``).

Factors, limits and code changes live in TOML files so that a change of a conversion factor or a
validation limit is a change of data, reviewed with its source, not of code.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any

__all__ = ["load", "lookup"]


@functools.cache
def load(name: str) -> dict[str, Any]:
    """Return the parsed configuration file ``energy_lib/config/<name>.toml``.

    Parameters
    ----------
    name : str
        File stem, e.g. ``"units"``, ``"ingest"`` or ``"wards"``.
    """
    text = resources.files("energy_lib.config").joinpath(f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


def lookup(name: str, dotted_key: str) -> Any:
    """Return the entry at ``dotted_key`` (e.g. ``"energy_content.gas_mj_per_m3"``) of a file.

    Raises
    ------
    KeyError
        Naming the file and the missing key.
    """
    node: Any = load(name)
    for part in dotted_key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"energy_lib/config/{name}.toml has no entry {dotted_key!r}")
        node = node[part]
    return node
