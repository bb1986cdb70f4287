"""The demo city's personal energy codes: derived from the workbook's key, so that a rebuilt demo
prints the same codes for its households (:mod:`energy_lib.core.personal_codes`)."""

from __future__ import annotations

import pandas as pd

from energy_lib.core import keys
from energy_lib.core.personal_codes import issue_codes
from energy_lib.demo.city import households

__all__ = ["demo_codes", "demo_code_key"]


def demo_codes(settings) -> pd.DataFrame:
    """The demo city's customer numbers and personal energy codes (``account``, ``code``): what
    the demo prints for its households, never stored by the workbook.

    The codes are derived from the first key of the ring (:func:`demo_code_key`), so they stay the
    same when the demo is rebuilt, and across ``energy keys rotate``.

    Parameters
    ----------
    settings : energy_lib.demo.city.DemoSettings
    """
    accounts = pd.Series(households(settings)["electricity_no"], name="account").reset_index(drop=True)
    return pd.DataFrame({"account": accounts, "code": issue_codes(accounts, demo_code_key())})


def demo_code_key() -> bytes:
    """The demo's code issuer key: derived from the ring's first key (HKDF, RFC 5869)."""
    return keys.derive("codes:demo-issuer", keys.ring()[0])
