"""Pseudonymous ids for sites and meters: keyed, so that nobody without the key can go back.

Customer numbers identify people; the store never keeps them. A meter's id is HMAC-SHA256
(RFC 2104) of its provider, carrier and customer number under the meter key, a site's under the
site key (both derived from the master key, :mod:`energy_lib.core.keys`): the same customer in
two files gets the same id, and without the key an id cannot be tested against candidate numbers.

A re-keyed store (:func:`rekey`) chains the keys: with the key ring ``k1, …, kn`` an id is
``h_n`` where ``h_1 = HMAC(k1, parts)`` and ``h_i = HMAC(ki, h_(i-1))`` (each cut to 80 bits).
Re-keying therefore needs only the stored ids, never a customer number, and new files get the
ids of the re-keyed store.

References
----------
RFC 2104 (HMAC); RFC 5869 (HKDF, the per-purpose keys).
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from energy_lib.core import keys
from energy_lib.core.vectors import arrow_strings

__all__ = ["ID_COLUMNS", "pseudonyms", "rekey_ids", "rekey"]

_ID_HEX = 20  # 80 bits: collisions improbable far beyond a city's meters (birthday bound ~1e12)
ID_COLUMNS = {"meter_id": "meter", "site_id": "site"}
"""Columns that hold pseudonyms, in every table of the store and the derived tables, by kind."""


def _kind_keys(kind: str, ring: tuple[bytes, ...]) -> list[bytes]:
    """The key of ``kind`` under each master key of the ring, oldest first."""
    return [keys.derive(f"pseudonym:{kind}", master) for master in ring]


def _chain(values: list[str], chain: list[bytes]) -> list[str]:
    """HMAC each value through the keys of ``chain`` in turn, 80 bits (hex) kept at each step."""
    for key in chain:
        keyed = hmac.new(key, digestmod=hashlib.sha256)  # the key's pads hashed once, copied per value
        out = []
        for value in values:
            one = keyed.copy()
            one.update(value.encode("utf-8"))
            out.append(one.hexdigest()[:_ID_HEX])
        values = out
    return values


def _apply(strings: pa.Array, prefix: str, chain: list[bytes]) -> np.ndarray:
    """``prefix`` + the chained HMAC of each distinct string once (ids repeat across rows); nulls stay null."""
    encoded = pc.dictionary_encode(strings)
    hashed = [prefix + h for h in _chain(encoded.dictionary.to_pylist(), chain)]
    ids = pa.array(hashed, pa.string()).take(encoded.indices)
    return ids.to_numpy(zero_copy_only=False)


class _Memo:
    """Ids this process has made, by kind, key ring and leading parts (a file's provider and
    carrier), keyed by the last part (the customer number).

    Every monthly file of a utility names the same customers again; looking their ids up (one
    Arrow hash pass) costs a tenth of hashing them again. The memo lives only in this process's
    memory, like the file being read, holds at most :data:`_MEMO_ROWS` ids (about 40 bytes
    each), after which it starts again empty, and only calls of :data:`_MEMO_MIN_ROWS` values or
    more use it: an app that looks up one household's number does not keep it.
    """

    def __init__(self) -> None:
        self._groups: dict[tuple, tuple[pa.Array, pa.Array]] = {}
        self._rows = 0

    def ids(self, values: pa.Array, lead: str, prefix: str, chain: list[bytes], kind: str) -> pa.Array:
        """Ids of ``values`` (the last parts; nulls give null ids), hashing only the distinct
        values not seen before under the same ``kind``, ``chain`` and ``lead`` (the leading
        parts joined, each followed by ``|``)."""
        group = (kind, tuple(chain), lead)
        known, ids = self._groups.get(group, (_NO_TEXT, _NO_TEXT))
        where = pc.index_in(values, value_set=known).cast(pa.int64())
        missing = pc.and_(pc.is_null(where), pc.is_valid(values))
        if pc.any(missing).as_py():
            fresh = pc.unique(pc.filter(values, missing))
            if self._rows + len(fresh) > _MEMO_ROWS:  # full: start again from this call's values
                self._groups.clear()
                self._rows = 0
                known, ids = _NO_TEXT, _NO_TEXT
                where, fresh = pa.nulls(len(values), pa.int64()), pc.unique(pc.drop_null(values))
            hashed = pa.array([prefix + h for h in _chain([lead + v for v in fresh.to_pylist()], chain)], pa.string())
            # the fresh values go after the known ones: look them up among themselves, not again
            # among all (a hash table of the whole memo costs a city's file 0.2–0.3 s)
            where = pc.coalesce(where, pc.add(pc.index_in(values, value_set=fresh).cast(pa.int64()), len(known)))
            known, ids = pa.concat_arrays([known, fresh]), pa.concat_arrays([ids, hashed])
            self._groups[group] = (known, ids)
            self._rows += len(fresh)
        return ids.take(where)


_MEMO_ROWS = 4_000_000  # ids remembered per process: a city's meters of three carriers, ~160 MB
_MEMO_MIN_ROWS = 10_000  # fewer values (an app's one household) are hashed and not remembered
_MEMO = _Memo()
_NO_TEXT = pa.array([], pa.string())


def pseudonyms(kind: str, *parts: pd.Series) -> pd.Series:
    """Pseudonymous ids ``<kind[0]>-<20 hex digits>`` for the rows of ``parts`` joined by ``|``.

    Parameters
    ----------
    kind : str
        ``"meter"``, ``"site"`` or ``"session"`` (the id's prefix is its first letter; the key is
        the kind's own, :func:`energy_lib.core.keys.derive`).
    *parts : pandas.Series of str
        Key parts, e.g. provider, carrier and customer number. A row with a missing part gets a
        missing id.

    Raises
    ------
    energy_lib.core.keys.MissingKeyError
        When no key is configured (fail closed; the message says how to create one).

    Notes
    -----
    ``id = kind[0] + "-" + h``; ``h`` is the HMAC-SHA256 chain of ``p1|p2|…`` through the key ring
    (see the module's docstring). Each distinct value is hashed once, and when the leading parts
    are the same on every row (a utility's file) the ids this process made before are looked up
    instead of hashed again (:class:`_Memo`): 622,000 customer numbers take about 1.5 s to hash and
    0.2 s to look up (docs/benchmarks.md).
    """
    chain = _kind_keys(kind, keys.ring())
    prefix = f"{kind[0]}-"
    last = arrow_strings(parts[-1])
    lead = [arrow_strings(p) for p in parts[:-1]]
    if len(last) >= _MEMO_MIN_ROWS:
        leads = pc.unique(pc.binary_join_element_wise(*lead, "", "|")) if lead else pa.array([""])
        if len(leads) == 1 and leads[0].is_valid:  # one provider and carrier: a utility's file
            ids = _MEMO.ids(last, leads[0].as_py(), prefix, chain, kind)
            return pd.Series(ids.to_pandas().array, index=parts[0].index, dtype="str")  # no Python strings
    joined = pc.binary_join_element_wise(*lead, last, "|") if lead else last
    return pd.Series(_apply(joined, prefix, chain), index=parts[0].index, dtype="str")


def rekey_ids(ids: pd.Series | pa.Array | pa.ChunkedArray, kind: str, master: bytes) -> pa.Array:
    """Stored ids of ``kind`` moved to the ring extended by ``master``: ``h' = HMAC(k, h)``.

    Parameters
    ----------
    ids : pandas.Series or pyarrow array of str
        Ids ``<prefix>-<hex>`` as :func:`pseudonyms` made them. Other values (e.g. a register's
        own names) are left alone; missing ids stay missing.
    kind : str
        ``"meter"`` or ``"site"``.
    master : bytes
        The new master key (the one appended to the ring).

    Returns
    -------
    pyarrow.Array of str
        The ids in the same order.
    """
    prefix = f"{kind[0]}-"
    values = arrow_strings(ids)
    ours = pc.fill_null(pc.match_substring_regex(values, f"^{prefix}[0-9a-f]{{{_ID_HEX}}}$"), False)
    tails = pc.utf8_slice_codeunits(pc.filter(values, ours), len(prefix))
    moved = _apply(tails, prefix, [keys.derive(f"pseudonym:{kind}", master)])
    out = values.to_numpy(zero_copy_only=False).astype(object)
    out[ours.to_numpy(zero_copy_only=False)] = moved
    return pa.array(out, pa.string())


def rekey(table: pa.Table, master: bytes) -> pa.Table:
    """A table with every pseudonym column (:data:`ID_COLUMNS`) moved by :func:`rekey_ids`."""
    for column, kind in ID_COLUMNS.items():
        if column in table.column_names:
            position = table.column_names.index(column)
            moved = rekey_ids(table[column], kind, master).cast(table.schema.field(column).type)
            table = table.set_column(position, table.schema.field(column), moved)
    return table
