"""Personal energy codes: how the city issues them and how only their slow, keyed hash is kept.

A household proves who it is to the "my savings" app (:mod:`energy_lib.apps.household`) with its
electricity customer number and a personal code of :data:`CODE_LENGTH` characters. The workbook
never stores a code: only ``scrypt(HMAC(pepper key, code), salt, n, r, p)`` (RFC 7914, RFC 2104)
with a random salt per code, under a key of the workbook's key ring (:mod:`energy_lib.core.keys`).
The demo city issues deterministic codes with :func:`issue_codes` (:mod:`energy_lib.demo.personal_codes`);
a real city issues random codes and keeps only :func:`code_hashes`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd

from energy_lib.core import configuration, keys

__all__ = ["CODE_ALPHABET", "CODE_LENGTH", "CODE_GROUP", "CodeHashSettings", "normalise_code", "issue_codes",
           "code_hash", "parse_hash", "verify_code", "code_hashes"]

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed without doubt
CODE_LENGTH = 12  # 31**12 ≈ 2**59.4 codes: guessing is hopeless (docs/privacy.md)
CODE_GROUP = 4  # shown as ABCD-EFGH-JKMN: three groups read and typed without losing one's place


@dataclass(frozen=True)
class CodeHashSettings:
    """The cost of scrypt (RFC 7914) for the personal codes; stored with each hash.

    Attributes
    ----------
    n : int
        CPU and memory cost (a power of two); memory is 128·r·n bytes (4 MiB at n = 2**12, r = 8).
    r : int
        Block size.
    p : int
        Parallelisation.
    salt_bytes : int
        Random salt per code [bytes].
    """

    n: int = 2**12
    r: int = 8
    p: int = 1
    salt_bytes: int = 16

    @classmethod
    def configured(cls) -> CodeHashSettings:
        """The settings of ``config/privacy.toml``, section ``codes``."""
        codes = configuration.load("privacy")["codes"]
        return cls(n=int(codes["scrypt_n"]), r=int(codes["scrypt_r"]), p=int(codes["scrypt_p"]),
                   salt_bytes=int(codes["salt_bytes"]))

    @property
    def maxmem(self) -> int:
        """OpenSSL's memory bound for these parameters, 128·r·(n + p + 2) bytes, plus slack [bytes]."""
        return 128 * self.r * (self.n + self.p + 2) + 2**16


def normalise_code(code: str) -> str:
    """A code as typed (any case, spaces or hyphens, e.g. ``abcd-efgh-jkmn``) → ``ABCDEFGHJKMN``."""
    return "".join(code.split()).replace("-", "").upper()


def issue_codes(accounts: pd.Series, secret: bytes) -> pd.Series:
    """Deterministic personal energy codes for customer numbers (the demo city's).

    Parameters
    ----------
    accounts : pandas.Series of str
        Electricity customer numbers.
    secret : bytes
        The issuer's key (:func:`demo_code_key`); whoever holds it can recompute every code, so
        the demo prints its codes, and a real city issues random codes and keeps only
        :func:`code_hash`.

    Returns
    -------
    pandas.Series of str
        ``CODE_LENGTH`` characters of ``CODE_ALPHABET`` in groups of ``CODE_GROUP`` joined by
        hyphens (``ABCD-EFGH-JKMN``), same index.

    Notes
    -----
    The code is HMAC-SHA256 (RFC 2104) of the account, read as a big number, written in base 31:
    31**12 ≈ 2**59.4 codes, so guessing one is hopeless even before the slow hash
    (:func:`code_hash`) and the throttle.
    """
    base = len(CODE_ALPHABET)

    def one(account: str) -> str:
        number = int.from_bytes(hmac.digest(secret, account.encode("utf-8"), "sha256"), "big")
        digits = []
        for _ in range(CODE_LENGTH):
            number, digit = divmod(number, base)
            digits.append(CODE_ALPHABET[digit])
        return "-".join("".join(digits[i:i + CODE_GROUP]) for i in range(0, CODE_LENGTH, CODE_GROUP))

    # hashlib has no vectorised HMAC; issuing is a one-off demo step (about 2 s per 650,000 accounts)
    return pd.Series([one(a) for a in accounts.astype(str)], index=accounts.index, dtype="str")


def _pepper(code: str, master: bytes) -> bytes:
    """The code keyed with the codes' pepper (HMAC-SHA256 under a key derived from ``master``):
    without the key, a stolen index cannot be attacked offline at all."""
    return hmac.digest(keys.derive("codes:pepper", master), normalise_code(code).encode("utf-8"), "sha256")


def _scrypt(code: str, master: bytes, salt: bytes, settings: CodeHashSettings) -> bytes:
    return hashlib.scrypt(_pepper(code, master), salt=salt, n=settings.n, r=settings.r, p=settings.p,
                          maxmem=settings.maxmem, dklen=32)


def code_hash(code: str, *, settings: CodeHashSettings | None = None, ring: tuple[bytes, ...] | None = None) -> str:
    """The slow, salted, keyed hash of a code: what the index stores, never the code.

    Parameters
    ----------
    code : str
        A code as typed (:func:`normalise_code`).
    settings : CodeHashSettings, optional
        Default :meth:`CodeHashSettings.configured`.
    ring : tuple of bytes, optional
        The key ring (default :func:`energy_lib.core.keys.ring`); its newest key peppers the code.

    Returns
    -------
    str
        ``scrypt$<key>$<n>$<r>$<p>$<salt>$<hash>``: the ring position of the pepper's key, the
        cost parameters, a random salt of this code alone and the 32-byte scrypt output (both
        base64), so that :func:`verify_code` needs nothing else and the parameters can change.

    Notes
    -----
    ``hash = scrypt(HMAC-SHA256(K_codes, code), salt, n, r, p)`` (RFC 7914; RFC 2104). The per-code
    salt makes every code a separate search, the pepper ``K_codes`` (derived from the secret key)
    makes the search impossible without the key, and scrypt makes each guess cost n·r·128 bytes
    of memory.
    """
    settings = settings or CodeHashSettings.configured()
    ring = ring or keys.ring()
    salt = secrets.token_bytes(settings.salt_bytes)
    digest = _scrypt(code, ring[-1], salt, settings)
    return "$".join(["scrypt", str(len(ring) - 1), str(settings.n), str(settings.r), str(settings.p),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()])


def parse_hash(stored: str) -> tuple[int, CodeHashSettings, bytes, bytes]:
    """The ring position, settings, salt and digest of a :func:`code_hash`."""
    scheme, position, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        raise ValueError(f"not a code hash of this workbook: {stored[:12]}…")
    salt_bytes = base64.b64decode(salt)
    return int(position), CodeHashSettings(int(n), int(r), int(p), len(salt_bytes)), salt_bytes, base64.b64decode(digest)


def verify_code(code: str, stored: str, ring: tuple[bytes, ...] | None = None) -> bool:
    """Whether ``code`` is the code behind ``stored`` (:func:`code_hash`), compared in constant time."""
    ring = ring or keys.ring()
    position, settings, salt, digest = parse_hash(stored)
    return hmac.compare_digest(_scrypt(code, ring[position], salt, settings), digest)


def code_hashes(codes: pd.Series, *, settings: CodeHashSettings | None = None, workers: int | None = None) -> pd.Series:
    """:func:`code_hash` of many codes, on ``workers`` threads (default: one per CPU).

    Notes
    -----
    hashlib's scrypt releases the GIL, so threads run hashes in parallel. One hash with the
    configured n = 2**12 takes 15–40 ms of a core; 650,000 codes about 3 core-hours, half an hour
    on a 6-core machine (docs/benchmarks.md). Issuing is a one-off step.
    """
    settings = settings or CodeHashSettings.configured()
    ring = keys.ring()
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        hashed = list(pool.map(lambda c: code_hash(c, settings=settings, ring=ring), codes.astype(str), chunksize=64))
    return pd.Series(hashed, index=codes.index, dtype="str")
