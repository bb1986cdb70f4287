"""The canonical store: Parquet files under ``data/store/``, queried with DuckDB.

This module alone reads and writes the store.

Layout::

    data/store/_manifest.json              the committed state: which part files make each table
    data/store/<table>/part-<gen>-<id>.parquet

A commit writes new part files (invisible until listed), then replaces ``_manifest.json`` in one
``os.replace``. A reader sees either the old manifest or the new one, never a half-written table:
an interrupted ingest leaves the store exactly as it was, and the orphaned part files it left are
removed by the next writer. Tables grow by appending parts; a dimension table (wards, sites,
meters, …) is rewritten whole when existing rows change. One writer at a time (a lock file).

Readers never fail because a writer moved on. A read runs inside a *snapshot* (:meth:`Store.snapshot`,
which :meth:`Store.sql`, :meth:`Store.read` and :meth:`Store.connect` take themselves): it holds a
shared lock on ``_readers`` and sees the manifest as it was when the snapshot began. Part files a
commit no longer lists (compaction merged them, a dimension table was replaced) are *retired*:
the manifest lists them until a writer finds no reader holding a snapshot, and only then deletes
them. A reader in the middle of a long query therefore keeps every file its manifest names.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from energy_lib.core.tables import TABLES, table
from energy_lib.core.vectors import duckdb_cursor

__all__ = ["Store", "Writer", "PinnedConnection", "NothingToCompute", "default_root"]

_MANIFEST = "_manifest.json"
_LOCK = "_lock"
_READERS = "_readers"  # readers hold it shared; part files are deleted only while nobody does
_FORMAT = 1
# Part metadata kept in the manifest so that readers can skip parts by time range and carrier.
_TIME_COLUMNS = ("period_start", "date", "enrolled_on")
_PART_CACHE: dict[tuple, dict[tuple, pa.Table]] = {}  # Store.read_parts: per process, by store, table, columns
# Compaction: when a fact table has more than _MAX_SMALL_PARTS parts of fewer than _SMALL_PART rows
# (one per small file ingested), a commit merges them into one, so reads stay fast.
_SMALL_PART = 200_000
_MAX_SMALL_PARTS = 8


def default_root() -> Path:
    """The store directory: ``$ENERGY_STORE`` or ``data/store`` under the current directory."""
    return Path(os.environ.get("ENERGY_STORE", "data/store"))


class NothingToCompute(ValueError):
    """The store lacks what a computation needs (bills, weather); the message says what to do.
    Raised by the compute stage and the live monitor alike."""


@dataclass(frozen=True)
class Part:
    """A committed Parquet file of a table."""

    file: str
    rows: int
    time_min: str | None = None
    time_max: str | None = None
    carriers: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"file": self.file, "rows": self.rows, "time_min": self.time_min,
                "time_max": self.time_max, "carriers": list(self.carriers)}

    @classmethod
    def from_json(cls, data: dict) -> Part:
        return cls(data["file"], int(data["rows"]), data.get("time_min"), data.get("time_max"),
                   tuple(data.get("carriers", ())))


class Store:
    """A store directory. Cheap to create; reads the manifest on each call.

    Parameters
    ----------
    root : path, optional
        The store directory (created if missing). Default :func:`default_root`.
    """

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_root()
        self.root.mkdir(parents=True, exist_ok=True)
        self._cached: tuple[tuple[int, int, int], dict] | None = None
        self._local = threading.local()  # per thread: the manifests of its open snapshots

    @property
    def _pinned(self) -> list[dict]:
        """This thread's open snapshots' manifests, innermost last."""
        if not hasattr(self._local, "pinned"):
            self._local.pinned = []
        return self._local.pinned

    def __getstate__(self) -> dict:  # a Store sent to a worker process starts without snapshots
        return {"root": self.root, "_cached": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    # ---- reading -------------------------------------------------------------------------------
    def _manifest(self) -> dict:
        """The manifest of the innermost open snapshot, else the committed one (re-read only when
        the file changed)."""
        if self._pinned:
            return self._pinned[-1]
        return self._committed()

    def _committed(self) -> dict:
        path = self.root / _MANIFEST
        try:
            stat = path.stat()
        except FileNotFoundError:
            return {"format": _FORMAT, "generation": 0, "tables": {}}
        signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if self._cached is None or self._cached[0] != signature:
            self._cached = (signature, json.loads(path.read_text("utf-8")))
        return self._cached[1]

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Store]:
        """Pin the committed state for the block: every read inside sees the same manifest, and
        no part file it lists is deleted until the block ends (a shared lock on ``_readers``).

        Snapshots nest; a writer's own reads need none (it holds the write lock).
        """
        with open(self.root / _READERS, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            try:
                self._pinned.append(self._committed())
                try:
                    yield self
                finally:
                    self._pinned.pop()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def fingerprint(self) -> str:
        """SHA-256 of the committed parts: changes whenever any table is written (the same data
        committed again gets new part files, and a new fingerprint)."""
        tables = self._manifest()["tables"]
        return hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()

    @property
    def generation(self) -> int:
        """Number of commits so far; changes whenever the store changes."""
        return int(self._manifest()["generation"])

    def parts(self, name: str) -> list[Part]:
        """Committed part files of table ``name``."""
        table(name)
        return [Part.from_json(p) for p in self._manifest()["tables"].get(name, [])]

    def files(self, name: str, *, time_from: pd.Timestamp | None = None,
              time_to: pd.Timestamp | None = None, carriers: set[str] | None = None) -> list[Path]:
        """Paths of the part files of ``name``, optionally only those that may hold rows with the
        table's time column in ``[time_from, time_to]`` and a carrier in ``carriers``."""
        selected = []
        for part in self.parts(name):
            if time_from is not None and part.time_max is not None and pd.Timestamp(part.time_max) < time_from:
                continue
            if time_to is not None and part.time_min is not None and pd.Timestamp(part.time_min) > time_to:
                continue
            if carriers is not None and part.carriers and not carriers.intersection(part.carriers):
                continue
            selected.append(self.root / part.file)
        return selected

    def rows(self, name: str) -> int:
        """Number of rows in table ``name``."""
        return sum(p.rows for p in self.parts(name))

    def relation_sql(self, name: str, files: list[Path] | None = None) -> str:
        """SQL for a table (or a subset of its files) as a DuckDB relation."""
        files = self.files(name) if files is None else files
        if not files:
            spec = table(name)
            columns = ", ".join(
                f"CAST(NULL AS {_duck_type(c.dtype)}) AS \"{c.name}\"" for c in spec.columns
            )
            return f"(SELECT {columns} WHERE false)"
        listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        return f"read_parquet([{listing}])"

    def connect(self, tables: list[str] | None = None) -> PinnedConnection:
        """A DuckDB cursor with a view for each canonical table (or only ``tables``), over a
        snapshot that lasts until the cursor is closed. Close it."""
        snapshot = self.snapshot()
        snapshot.__enter__()
        try:
            con = duckdb_cursor()
            for name in tables or TABLES:
                con.execute(f'CREATE TEMP VIEW "{name}" AS SELECT * FROM {self.relation_sql(name)}')
        except BaseException:
            snapshot.__exit__(None, None, None)
            raise
        return PinnedConnection(con, snapshot)

    def sql(self, query: str, params: list | None = None) -> pd.DataFrame:
        """Run a DuckDB query over the canonical tables (each is a view) and return a frame."""
        used = [name for name in TABLES if re.search(rf"\b{name}\b", query)]
        with contextlib.closing(self.connect(used)) as con:
            return con.execute(query, params or []).df()

    def read(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """Table ``name`` as a frame, in stored order (empty with the right columns if none)."""
        spec = table(name)
        with self.snapshot():
            files = self.files(name)
            if not files:
                frame = spec.empty()
                return frame[columns] if columns else frame
            data = pq.ParquetDataset([str(f) for f in files], schema=spec.arrow_schema()).read(columns=columns)
        return data.to_pandas()

    def read_parts(self, name: str, files: list[Path], columns: list[str]) -> pa.Table:
        """``columns`` of the part files ``files`` of table ``name``, each file read once per
        process.

        A part file never changes once written (a change writes new parts), so a process that
        looks the same table up at every commit, such as an ingest worker and the stored meters,
        reads only the parts it has not read before. The process keeps the parts of the last call
        for each table and set of columns, and nothing else.
        """
        spec = table(name)
        schema = pa.schema([spec.arrow_schema().field(c) for c in columns])
        key = (str(self.root.resolve()), name, tuple(columns))
        before = _PART_CACHE.get(key, {})
        now = {}
        for file in files:
            stat = file.stat()
            signature = (str(file), stat.st_mtime_ns, stat.st_size)
            part = before.get(signature)
            now[signature] = pq.read_table(file, columns=columns, schema=schema) if part is None else part
        _PART_CACHE[key] = now
        return pa.concat_tables(now.values()) if now else schema.empty_table()

    def foreign_files(self) -> list[Path]:
        """Entries of the store directory that the store did not write (hidden files aside)."""
        own = {_MANIFEST, _LOCK, _READERS, f"{_MANIFEST}.tmp", *TABLES}
        return [p for p in self.root.iterdir() if p.name not in own and not p.name.startswith(".")]

    def clear(self) -> None:
        """Delete every table (the manifest, the lock and the table directories), nothing else.

        Raises
        ------
        ValueError
            If the directory holds files the store did not write: it may not be a store.
        """
        foreign = self.foreign_files()
        if foreign:
            raise ValueError(f"{self.root} holds files that are not the store's ({foreign[0].name}, …); "
                             "refusing to clear it")
        with self._locked_directory():
            for name in TABLES:
                shutil.rmtree(self.root / name, ignore_errors=True)
            (self.root / _MANIFEST).unlink(missing_ok=True)
            (self.root / _READERS).unlink(missing_ok=True)
        self._cached = None

    @contextlib.contextmanager
    def _locked_directory(self) -> Iterator[None]:
        with open(self.root / _LOCK, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # ---- writing -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def writer(self) -> Iterator[Writer]:
        """Hold the store's write lock and stage changes; commit them atomically on exit.

        Reads through the writer see the committed state under the lock, so a check against stored
        rows (duplicates, overlaps) and the write that follows cannot race another ingest. If the
        block raises, nothing is committed and the staged files are removed.
        """
        with self._locked_directory():
            try:
                self._remove_orphans()
                writer = Writer(self)
                yield writer
                writer._commit()
            finally:
                self._remove_orphans()
                self._delete_retired()

    def commit(self, *, append: Mapping[str, pd.DataFrame | pa.Table] | None = None,
               replace: Mapping[str, pd.DataFrame | pa.Table] | None = None) -> int:
        """Atomically append rows to fact tables and replace dimension tables (see :meth:`writer`).

        Returns
        -------
        int
            The new generation number.
        """
        with self.writer() as writer:
            for name, frame in (replace or {}).items():
                writer.replace(name, frame)
            for name, frame in (append or {}).items():
                writer.append(name, frame)
        return self.generation

    def _write_part(self, name: str, frame: pd.DataFrame | pa.Table, generation: int) -> Part:
        spec = table(name)
        data = frame if isinstance(frame, pa.Table) else spec.conform(frame)
        relative = f"{name}/part-{generation:08d}-{uuid.uuid4().hex[:8]}.parquet"
        path = self.root / relative
        path.parent.mkdir(exist_ok=True)
        temporary = path.with_suffix(".tmp")
        pq.write_table(data, temporary, compression="zstd")
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        time_min = time_max = None
        time_column = next((c for c in _TIME_COLUMNS if c in spec.column_names), None)
        if time_column and data.num_rows:
            bounds = pc.min_max(data[time_column])
            time_min, time_max = (str(bounds[k].as_py()) for k in ("min", "max"))
        carriers = ()
        if "carrier" in spec.column_names and data.num_rows:
            carriers = tuple(sorted(v for v in pc.unique(data["carrier"]).to_pylist() if v))
        return Part(relative, data.num_rows, time_min, time_max, carriers)

    def _remove_orphans(self) -> None:
        """Delete part files that no committed manifest lists (left by an interrupted commit);
        retired parts stay until :meth:`_delete_retired`."""
        manifest = self._committed()
        listed = {p["file"] for parts in manifest["tables"].values() for p in parts} | set(manifest.get("retired", []))
        for name in TABLES:
            directory = self.root / name
            if not directory.is_dir():
                continue
            for path in directory.iterdir():
                if f"{name}/{path.name}" not in listed:
                    path.unlink(missing_ok=True)

    def _delete_retired(self) -> None:
        """Delete the retired part files if no reader holds a snapshot (else a later writer will).
        Called under the write lock."""
        manifest = self._committed()
        if not manifest.get("retired"):
            return
        with open(self.root / _READERS, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a reader may still be reading them
                return
            try:
                _write_atomically(self.root / _MANIFEST, json.dumps({**manifest, "retired": []}, ensure_ascii=False, indent=1))
                for file in manifest["retired"]:
                    (self.root / file).unlink(missing_ok=True)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class PinnedConnection:
    """A DuckDB cursor that keeps its store snapshot until :meth:`close` (everything else is the
    cursor's)."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, snapshot: contextlib.AbstractContextManager):
        self._cursor = cursor
        self._snapshot: contextlib.AbstractContextManager | None = snapshot

    def __getattr__(self, name: str):
        return getattr(self._cursor, name)

    def close(self) -> None:
        """Close the cursor and end the snapshot."""
        try:
            self._cursor.close()
        finally:
            if self._snapshot is not None:
                self._snapshot.__exit__(None, None, None)
                self._snapshot = None


class Writer:
    """Changes staged under the store's lock; see :meth:`Store.writer`."""

    def __init__(self, store: Store):
        self.store = store
        self._append: dict[str, list[pd.DataFrame | pa.Table]] = {}
        self._replace: dict[str, Part] = {}
        self._rewritten: dict[str, list[Part]] = {}

    def append(self, name: str, frame: pd.DataFrame | pa.Table) -> None:
        """Stage rows to append to table ``name`` (empty frames are ignored). For a dimension
        table the caller guarantees that the rows' keys are new."""
        if name in self._replace:
            raise ValueError(f"{name} is already being replaced in this commit")
        if len(frame):
            self._append.setdefault(name, []).append(frame)

    def replace(self, name: str, frame: pd.DataFrame | pa.Table) -> None:
        """Stage the whole new content of dimension or derived table ``name``.

        The part is written at once (none is visible before the commit), so the caller can let
        ``frame`` go: a long job that replaces several large tables holds one at a time.
        """
        if table(name).kind == "fact":
            raise ValueError(f"{name} is a fact table: append to it, do not replace it")
        if name in self._append:
            raise ValueError(f"{name} already has rows appended in this commit")
        self._replace[name] = self.store._write_part(name, frame, self._generation())

    def rewrite(self, name: str, tables: Iterable[pa.Table]) -> None:
        """Replace every part of table ``name``, fact tables too, with ``tables`` (one part each).

        For a change of every row, such as re-keying the pseudonyms (:mod:`energy_lib.store.rekey`):
        each part is written as soon as it is given, so that a fact table is rewritten one part at a
        time in bounded memory; none is visible before the commit.
        """
        if name in self._append or name in self._replace or name in self._rewritten:
            raise ValueError(f"{name} is already being changed in this commit")
        generation = self._generation()
        self._rewritten[name] = [self.store._write_part(name, t, generation) for t in tables]

    def _generation(self) -> int:
        """The generation this commit will have (the committed manifest cannot change under the lock)."""
        return int(self.store._committed()["generation"]) + 1

    def _commit(self) -> None:
        if not self._append and not self._replace and not self._rewritten:
            return
        store = self.store
        manifest = store._committed()
        generation = self._generation()
        tables = {k: list(v) for k, v in manifest["tables"].items()}
        superseded: list[str] = []
        for name, part in self._replace.items():
            superseded += [p["file"] for p in tables.get(name, [])]
            tables[name] = [part.to_json()] if part.rows else []
        for name, parts in self._rewritten.items():
            superseded += [p["file"] for p in tables.get(name, [])]
            tables[name] = [part.to_json() for part in parts if part.rows]
        for name, frames in self._append.items():
            for frame in frames:
                tables.setdefault(name, []).append(store._write_part(name, frame, generation).to_json())
            superseded += self._compact(name, tables, generation)
        new = {"format": _FORMAT, "generation": generation, "tables": tables,
               "retired": [*manifest.get("retired", []), *superseded]}
        _write_atomically(store.root / _MANIFEST, json.dumps(new, ensure_ascii=False, indent=1))

    def _compact(self, name: str, tables: dict[str, list[dict]], generation: int) -> list[str]:
        """Merge the small parts of ``name`` into one when there are many; return the merged files."""
        parts = tables.get(name, [])
        small = [p for p in parts if p["rows"] < _SMALL_PART]
        if len(small) <= _MAX_SMALL_PARTS:
            return []
        spec = table(name)
        merged = pa.concat_tables(pq.read_table(self.store.root / p["file"], schema=spec.arrow_schema())
                                  for p in small)
        tables[name] = [p for p in parts if p["rows"] >= _SMALL_PART] + \
            [self.store._write_part(name, merged, generation).to_json()]
        return [p["file"] for p in small]


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _duck_type(dtype: str) -> str:
    return {"string": "VARCHAR", "int64": "BIGINT", "float64": "DOUBLE", "bool": "BOOLEAN",
            "timestamp": "TIMESTAMP"}[dtype]
