"""Re-keying: a new secret key for the pseudonyms, without the customer numbers.

``energy keys rotate`` appends a new key to the key ring and moves every stored pseudonym
``h`` to ``HMAC(k_new, h)`` (:func:`energy_lib.core.identity.rekey_ids`): the store keeps no customer
number, so the new ids are computed from the old ids alone, and :func:`energy_lib.core.identity.pseudonyms`
chains the ring's keys so that files ingested afterwards get the same ids. Joins between tables
stay intact because every table and file is moved by the same function.

A key that may have leaked is retired this way: after the rotation, the stored ids can only be
tested against candidate numbers by someone holding the new key as well.

Crash safety: each store is rewritten in one atomic commit. Before the first, the new key and the
list of targets done so far go to a journal next to the key file (mode 0600); the ring is
replaced only when every target is done. An interrupted rotation is resumed by running the same
command again, which skips the targets the journal lists.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from energy_lib.core import identity, keys
from energy_lib.core.tables import TABLES
from energy_lib.store import Store

__all__ = ["Rotation", "rekey_store", "rekey_file", "journal_path", "rotate"]


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: the key file, the new key's id and the rows moved per target."""

    key_file: Path
    key_id: str
    keys: int
    moved: dict[str, int]

    def lines(self) -> list[str]:
        """The report as text lines."""
        return [f"{target}: {rows:,} rows re-keyed" for target, rows in self.moved.items()] + \
               [f"key ring {self.key_file}: {self.keys} keys; the new key's id is {self.key_id}"]


def rekey_store(store: Store, master: bytes) -> int:
    """Move every pseudonym column of every table of ``store`` to the new key, in one commit.

    Returns
    -------
    int
        Rows rewritten.
    """
    rows = 0
    with store.writer() as writer:
        for name, spec in TABLES.items():
            if not set(identity.ID_COLUMNS) & set(spec.column_names) or not store.parts(name):
                continue
            files = [store.root / part.file for part in store.parts(name)]
            rows += sum(part.rows for part in store.parts(name))
            # one part at a time: the readings of a city do not fit in memory at once
            writer.rewrite(name, (identity.rekey(pq.read_table(f), master) for f in files))
    return rows


def rekey_file(path: Path, master: bytes) -> int:
    """Move the pseudonym columns of one Parquet file (e.g. the "my savings" index), atomically."""
    table = identity.rekey(pq.read_table(path), master)
    partial = path.with_name(path.name + ".partial")
    pq.write_table(table, partial)
    partial.replace(path)
    return table.num_rows


def journal_path(key_file: Path) -> Path:
    """The journal of an unfinished rotation, next to the key file."""
    return key_file.with_name(key_file.name + ".rotation")


def _write_journal(path: Path, master: bytes, done: list[str]) -> None:
    descriptor = os.open(path.with_name(path.name + ".partial"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"new_key": master.hex(), "done": done}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(path.with_name(path.name + ".partial"), path)


def rotate(stores: list[Store], files: list[Path]) -> Rotation:
    """Append a new key to the ring and re-key ``stores`` and the Parquet ``files`` with it.

    Parameters
    ----------
    stores : list of Store
        Every store whose tables hold pseudonyms (the canonical store and the derived tables).
    files : list of Path
        Other Parquet files keyed by pseudonyms (the "my savings" index); missing ones are skipped.

    Raises
    ------
    energy_lib.core.keys.MissingKeyError
        When there is no key to rotate.
    ValueError
        When the key comes from ``$ENERGY_SECRET_KEY``: the command cannot write the variable's
        new value; rotate the key file instead, or append a new key to the variable and re-key
        with it by hand.
    """
    if os.environ.get("ENERGY_SECRET_KEY"):
        raise ValueError("the key comes from ENERGY_SECRET_KEY, which `energy keys rotate` cannot change; "
                         "unset it and rotate a key file (ENERGY_KEY_FILE), then store the file's new ring "
                         "in your secret manager")
    ring = keys.ring()
    path = keys.key_file()
    journal = journal_path(path)
    if journal.exists():  # an interrupted rotation: finish it with its key
        state = json.loads(journal.read_text("utf-8"))
        master, done = bytes.fromhex(state["new_key"]), list(state["done"])
        if ring[-1] == master:  # interrupted after the ring was written: every target is done
            journal.unlink()
            return Rotation(path, keys.key_id(master), len(ring), {})
    else:
        master, done = secrets.token_bytes(keys.KEY_BYTES), []
        _write_journal(journal, master, done)
    moved: dict[str, int] = {}
    targets = [(str(s.root.resolve()), s) for s in stores] + [(str(f.resolve()), f) for f in files if f.exists()]
    for name, target in targets:
        if name in done:
            continue
        moved[name] = rekey_store(target, master) if isinstance(target, Store) else rekey_file(target, master)
        done.append(name)
        _write_journal(journal, master, done)
    keys.write_ring(ring + (master,), path)
    journal.unlink()
    return Rotation(path, keys.key_id(master), len(ring) + 1, moved)

