"""The secret key behind every pseudonym and personal code, and the keys derived from it.

Customer numbers are short and guessable (a few million candidates per utility), so a pseudonym
made by hashing them, however salted, falls to anyone who knows the salt. The workbook therefore
keys them: a pseudonym is HMAC-SHA256 (RFC 2104) of the customer number under a secret key that
lives outside the repository, the store and the published site. Without the key, a pseudonym says
nothing about the number; with the key, the same number always gets the same pseudonym.

Where the key comes from, in this order:

1. ``$ENERGY_SECRET_KEY``: the key ring as text (see below), e.g. from a secret manager;
2. the key file ``$ENERGY_KEY_FILE``, by default ``$XDG_CONFIG_HOME/energy-workbook/secret.key``
   (``~/.config/energy-workbook/secret.key``), readable by its owner only (mode 0600).

The text is a *key ring*: one key per line (64 hex digits, or base64 of at least 16 bytes; lines
starting with ``#`` are comments), oldest first. One key is the normal case; ``energy keys rotate``
appends a new one (:func:`energy_lib.core.identity.rekey`): a pseudonym is then the HMAC chain
through every key of the ring, so that pseudonyms stored under the old ring stay computable from
the store alone and new files get the same ids as the re-keyed store.

Nothing creates a key silently except the demo (:func:`ensure_key`, called by ``energy demo``):
every other command that needs the key stops with :class:`MissingKeyError`, which says how to
create one (``energy keys create``). That is failing closed: without this rule, a city that forgot
to set a key would pseudonymise its citizens under a key anyone could guess.

Each purpose has its own key, derived from the master key with HKDF-SHA256 (RFC 5869) and the
purpose's name as ``info``: meter pseudonyms, site pseudonyms, the board's client hashes, the
pepper of the personal codes and the demo's code issuer never share a key, so a key that leaks
from one use (say, the board's) reveals nothing about another.

References
----------
H. Krawczyk, M. Bellare, R. Canetti: HMAC: Keyed-Hashing for Message Authentication, RFC 2104, 1997.
H. Krawczyk, P. Eronen: HMAC-based Extract-and-Expand Key Derivation Function (HKDF), RFC 5869, 2010.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

__all__ = ["KEY_BYTES", "MissingKeyError", "InvalidKeyError", "key_file", "parse_ring", "format_ring", "ring",
           "create_key", "ensure_key", "write_ring", "hkdf", "derive", "key_id"]

KEY_BYTES = 32  # 256 bits: HMAC-SHA256's block-size-independent security level (RFC 2104, 3)
_MIN_KEY_BYTES = 16  # 128 bits: below this a key could be searched
_APP_DIR = "energy-workbook"
_FILE_NAME = "secret.key"
_CREATE_HINT = ("Create one with `energy keys create` (it writes a new random key to {path}, readable by you "
                "only), or set ENERGY_SECRET_KEY to 64 hex digits from your secret manager. Keep the key outside "
                "the repository, the store and the site, and back it up: without it, new files cannot be "
                "linked to the meters already in the store (docs/privacy.md, 'Keys').")


class MissingKeyError(RuntimeError):
    """No key is configured: the command that needs one stops (fail closed)."""


class InvalidKeyError(ValueError):
    """The key text or file cannot be used (unreadable, too short, readable by others)."""


def key_file() -> Path:
    """The key file: ``$ENERGY_KEY_FILE``, else ``secret.key`` in the user's configuration folder
    (``$XDG_CONFIG_HOME/energy-workbook/``, default ``~/.config/energy-workbook/``)."""
    explicit = os.environ.get("ENERGY_KEY_FILE")
    if explicit:
        return Path(explicit).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / _APP_DIR / _FILE_NAME


def _decode(text: str, where: str) -> bytes:
    """One key: 64 hex digits, or base64 of at least 16 bytes."""
    try:
        key = bytes.fromhex(text) if all(c in "0123456789abcdefABCDEF" for c in text) else \
            base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise InvalidKeyError(f"{where}: {text[:4]}… is neither hex nor base64; a key is 64 hex digits "
                              "(`energy keys create` writes one)") from None
    if len(key) < _MIN_KEY_BYTES:
        raise InvalidKeyError(f"{where}: a key of {len(key)} bytes is too short; use {KEY_BYTES} random bytes "
                              "(64 hex digits; `energy keys create` writes one)")
    return key


def parse_ring(text: str, where: str = "key") -> tuple[bytes, ...]:
    """The keys of a key ring's text, oldest first.

    Parameters
    ----------
    text : str
        Keys separated by line breaks, spaces or commas; ``#`` starts a comment line.
    where : str
        Where the text came from, for the error message (a file name or the variable's name).

    Raises
    ------
    InvalidKeyError
        When a key is neither hex nor base64, or shorter than 16 bytes, or there is none.
    """
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    tokens = " ".join(lines).replace(",", " ").split()
    if not tokens:
        raise InvalidKeyError(f"{where} holds no key")
    return tuple(_decode(token, where) for token in tokens)


def format_ring(keys: tuple[bytes, ...]) -> str:
    """A key ring as the text of a key file (:func:`parse_ring` reads it back)."""
    header = ("# energy-workbook key ring: one key per line, oldest first (docs/privacy.md, 'Keys').\n"
              "# Secret: anyone holding it can test customer numbers against the pseudonyms.\n")
    return header + "".join(key.hex() + "\n" for key in keys)


def ring() -> tuple[bytes, ...]:
    """The key ring in force, oldest key first.

    Raises
    ------
    MissingKeyError
        When neither ``$ENERGY_SECRET_KEY`` nor the key file exists; the message says how to create one.
    InvalidKeyError
        When the key is malformed, or the key file is readable or writable by others than its owner.
    """
    text = os.environ.get("ENERGY_SECRET_KEY")
    if text:
        return parse_ring(text, "ENERGY_SECRET_KEY")
    path = key_file()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise MissingKeyError(f"no secret key: ENERGY_SECRET_KEY is not set and {path} does not exist. "
                              + _CREATE_HINT.format(path=path)) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        # as ssh does with private keys: a key others can read is no longer secret
        raise InvalidKeyError(f"{path} can be read or written by other users (mode {stat.S_IMODE(mode):o}); "
                              f"make it private with `chmod 600 {path}`, and create a new key with "
                              "`energy keys rotate` if someone else may have read it")
    return parse_ring(path.read_text("utf-8"), str(path))


def write_ring(keys: tuple[bytes, ...], path: Path | None = None, *, exclusive: bool = False) -> Path:
    """Write a key ring to a key file with mode 0600 (its folder 0700), atomically.

    Parameters
    ----------
    keys : tuple of bytes
        The ring, oldest first.
    path : Path, optional
        Default :func:`key_file`.
    exclusive : bool
        Refuse to overwrite an existing file (creating a key must never replace one: the store's
        pseudonyms would be lost with it).

    Raises
    ------
    FileExistsError
        ``exclusive`` and the file exists.
    """
    path = path or key_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if exclusive and path.exists():
        raise FileExistsError(f"{path} exists already; it is not overwritten (rotate it with `energy keys rotate`)")
    partial = path.with_name(path.name + ".partial")
    # created 0600 from the start: the key is never readable by others, not even for a moment
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(format_ring(keys))
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(partial, 0o600)  # an existing partial file keeps its mode through O_CREAT
    if exclusive:
        os.link(partial, path)  # fails if a key appeared meanwhile (no overwrite race)
        partial.unlink()
    else:
        os.replace(partial, path)
    return path


def create_key(path: Path | None = None) -> Path:
    """Write a new random key (``secrets.token_bytes``, 32 bytes) to a new key file.

    Raises
    ------
    FileExistsError
        When the file exists: a key is never replaced by a new one (see :func:`write_ring`).
    """
    return write_ring((secrets.token_bytes(KEY_BYTES),), path, exclusive=True)


def ensure_key() -> Path | None:
    """The demo's rule: create a key file when no key is configured; return its path if created.

    Only ``energy demo`` calls this (the demo city is recognised by its command; its key is an
    ordinary random key, kept like any other). Every other command fails closed (:func:`ring`).
    """
    if os.environ.get("ENERGY_SECRET_KEY") or key_file().exists():
        return None
    try:
        return create_key()
    except FileExistsError:  # another process created it meanwhile: use that one
        return None


def hkdf(key: bytes, info: bytes, length: int = KEY_BYTES, salt: bytes = b"") -> bytes:
    """HKDF-SHA256 (RFC 5869): extract a pseudorandom key from ``key``, expand it for ``info``.

    Parameters
    ----------
    key : bytes
        Input keying material (the master key).
    info : bytes
        What the derived key is for; different ``info`` gives independent keys.
    length : int
        Bytes of output (at most 255 × 32).
    salt : bytes
        Optional salt of the extract step (RFC 5869, 3.1: a master key that is already uniformly
        random needs none).

    Notes
    -----
    PRK = HMAC(salt or 0^32, key); T(i) = HMAC(PRK, T(i-1) | info | i); output = T(1) | T(2) | …
    """
    if length > 255 * hashlib.sha256().digest_size:
        raise ValueError(f"HKDF-SHA256 gives at most {255 * 32} bytes, not {length}")
    prk = hmac.digest(salt or bytes(hashlib.sha256().digest_size), key, "sha256")
    output, block = b"", b""
    for counter in range(1, -(-length // hashlib.sha256().digest_size) + 1):
        block = hmac.digest(prk, block + info + bytes([counter]), "sha256")
        output += block
    return output[:length]


def derive(purpose: str, master: bytes) -> bytes:
    """The key of one purpose (e.g. ``"pseudonym:meter"``, ``"codes"``) derived from a master key."""
    return hkdf(master, f"energy-workbook/v1/{purpose}".encode("utf-8"))


def key_id(master: bytes) -> str:
    """A short public name of a master key (16 hex digits): tells keys apart in messages and logs
    without revealing them (it is a derived key's prefix, not the key's)."""
    return derive("key-id", master)[:8].hex()
