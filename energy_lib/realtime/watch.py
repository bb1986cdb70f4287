"""``energy watch``: ingest files as they land in a folder and keep the live status up to date.

The watcher polls a folder (and its sub-folders) with ``os.scandir`` every ``poll`` seconds. A
file is ingested once it is *ready*:

* its name is not hidden or temporary (``.*``, ``*.part``, ``*.tmp``, ``*.crdownload``): writers
  that write under such a name and rename when done (as ``energy feed`` does) are never seen half;
* its size and modification time have not changed for ``settle`` seconds (by the watcher's own
  observations or the file's mtime), and
* it ends with a line break: a writer that copies in place and stalls is waited for. A file that
  never gets one is ingested after ``settle_max`` seconds unchanged (the pipeline then warns that
  its last row may be cut off).

The watcher reads only regular files inside its folder. A symbolic link (it could point
anywhere, e.g. ``/etc/passwd``), a FIFO, a socket or a device is never opened: it is moved, as the
link or special file itself, to the *rejected* folder (``.rejected/`` in the watched folder unless
set otherwise) with a ``<name>.reason.txt`` beside it. So is a file the ingest refuses as a whole
(it cannot be read at all), and a file whose ingest fails in a way nobody foresaw: the watcher
says so in one line and keeps running.

Ingest is :func:`energy_lib.ingest.pipeline.ingest_file`: the same content is never stored twice
(by SHA-256; the watcher checks the ingest log first, so a file seen again costs a hash, not a
parse) and rows already stored are quarantined as ``already_stored``, so a file that grows after
it was ingested adds only its new rows. The watcher remembers each file's size and mtime and
re-reads a file only when they change. After each round that stored rows it updates the live
status (:class:`energy_lib.realtime.live.LiveMonitor`), which refits baselines only when their data changed.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_module
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from energy_lib.ingest.pipeline import IngestOutcome, IngestReport, ingest_file
from energy_lib.realtime.live import LiveMonitor, utc_now
from energy_lib.store import NothingToCompute, Store

__all__ = ["WatchSettings", "Watcher", "ignored"]

_TEMPORARY_SUFFIXES = (".part", ".tmp", ".crdownload")


def ignored(name: str) -> bool:
    """True for names the watcher never reads: hidden files and writers' temporary names."""
    return name.startswith(".") or name.lower().endswith(_TEMPORARY_SUFFIXES)


@dataclass(frozen=True)
class WatchSettings:
    """Timing of the watcher.

    Parameters
    ----------
    poll : float
        Time between scans of the folder [s].
    settle : float
        Time a file must stay unchanged before it is read [s].
    settle_max : float
        Time after which an unchanged file without a final line break is read anyway [s].
    """

    poll: float = 0.5
    settle: float = 0.5
    settle_max: float = 30.0

    def __post_init__(self) -> None:
        if self.poll <= 0 or self.settle < 0 or self.settle_max < self.settle:
            raise ValueError("poll must be positive and 0 <= settle <= settle_max")


@dataclass(frozen=True)
class _Sighting:
    """A file as last observed: its size and mtime, when they were first observed (monotonic
    clock), and when the file itself was first seen (ISO 8601, UTC)."""

    size: int
    mtime_ns: int
    since: float
    first_seen: str


def _entries(directory: Path) -> Iterator[tuple[Path, os.stat_result | None, str | None]]:
    """Everything under ``directory`` that is not ignored, without following links: regular files
    as ``(path, status, None)`` and what must never be read as ``(path, None, reason)``. Hidden
    folders are skipped, and so are entries removed while the folder is read."""
    with os.scandir(directory) as entries:
        for entry in entries:
            if ignored(entry.name):
                continue
            try:
                if entry.is_symlink():
                    yield Path(entry.path), None, f"a symbolic link (to {os.readlink(entry.path)[:200]}): the watcher reads only regular files in its folder"
                elif entry.is_dir(follow_symlinks=False):
                    yield from _entries(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    yield Path(entry.path), entry.stat(follow_symlinks=False), None
                else:
                    kind = _special_kind(entry.stat(follow_symlinks=False).st_mode)
                    yield Path(entry.path), None, f"a {kind}, not a regular file: the watcher reads only regular files"
            except FileNotFoundError:
                continue


def _special_kind(mode: int) -> str:
    for test, name in ((stat_module.S_ISFIFO, "named pipe (FIFO)"), (stat_module.S_ISSOCK, "socket"),
                       (stat_module.S_ISCHR, "character device"), (stat_module.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "special file"


def _ends_with_newline(path: Path) -> bool:
    """True if the file's last byte is a line break (False if it is empty or gone)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) in (b"\n", b"\r")
    except OSError:
        return False


def _sha256(path: Path) -> str | None:
    """SHA-256 of a regular file, streamed; None if it is gone or was swapped for a link or a
    special file since the scan (``O_NOFOLLOW``, then a check of what was opened)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with open(descriptor, "rb") as handle:
        if not stat_module.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        return hashlib.file_digest(handle, "sha256").hexdigest()


class Watcher:
    """Watch ``directory``, ingest ready files into ``store`` and update the live status.

    Parameters
    ----------
    directory : path
        The folder the utilities' files land in.
    store : Store
    monitor : LiveMonitor
        Writes the live status after each round that stored rows.
    settings : WatchSettings
    echo : callable
        Receives one line per file and per status update.
    rejected : path, optional
        Where links, special files and files the ingest refuses are moved, each with a reason
        file. Default ``.rejected/`` inside ``directory`` (hidden, so never watched; on the same
        file system, so the move is a rename).
    """

    def __init__(self, directory: str | os.PathLike, store: Store, monitor: LiveMonitor,
                 settings: WatchSettings = WatchSettings(), *, echo: Callable[[str], None] = print,
                 rejected: str | os.PathLike | None = None):
        self.directory = Path(directory)
        self.rejected = Path(rejected) if rejected is not None else self.directory / ".rejected"
        self.store = store
        self.monitor = monitor
        self.settings = settings
        self.echo = echo
        self.pending: dict[Path, _Sighting] = {}
        self.refused: set[Path] = set()  # rejected entries that could not be moved away
        self.processed: dict[Path, tuple[int, int]] = {}
        self.last_status: dict | None = None

    def _ready(self) -> list[tuple[Path, _Sighting]]:
        """Scan the folder: note new and changed files, return those ready to read, oldest first."""
        now, wall = time.monotonic(), time.time()
        present = set()
        ready = []
        for path, stat, refusal in _entries(self.directory):
            if refusal is not None:
                if path not in self.refused:
                    self._reject(path, refusal)
                continue
            present.add(path)
            state = (stat.st_size, stat.st_mtime_ns)
            if self.processed.get(path) == state:
                continue
            seen = self.pending.get(path)
            if seen is None or (seen.size, seen.mtime_ns) != state:
                first = seen.first_seen if seen is not None else utc_now()
                seen = self.pending[path] = _Sighting(*state, now, first)
            unchanged = max(now - seen.since, wall - stat.st_mtime_ns / 1e9)
            complete = stat.st_size > 0 and _ends_with_newline(path)
            if (complete and unchanged >= self.settings.settle) or unchanged >= self.settings.settle_max:
                ready.append((path, seen))
        for gone in (set(self.pending) | set(self.processed)) - present:  # removed from the folder
            self.pending.pop(gone, None)
            self.processed.pop(gone, None)
        return sorted(ready, key=lambda item: (item[1].mtime_ns, str(item[0])))

    def _stored_hashes(self, digests: list[str]) -> set[str]:
        """The digests among ``digests`` whose content the store already ingested."""
        if not digests or not self.store.rows("ingest_log"):
            return set()
        found = self.store.sql("SELECT DISTINCT sha256 FROM ingest_log WHERE status = ? AND sha256 IN ?",
                               [IngestOutcome.STORED.value, digests])
        return set(found["sha256"])

    def _name(self, path: Path) -> str:
        return str(path.relative_to(self.directory))

    def _reject(self, path: Path, reason: str) -> None:
        """Move ``path`` (the entry itself, never what a link points to) to the rejected folder
        with ``<name>.reason.txt``, and say so. Names are prefixed with the time, so a file
        rejected twice keeps both copies."""
        name = self._name(path)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        target = self.rejected / f"{stamp}-{name.replace(os.sep, '__')}"
        try:
            self.rejected.mkdir(parents=True, exist_ok=True)
            while target.exists() or target.is_symlink():
                target = target.with_name(f"{target.name}~")
            os.replace(path, target)
        except OSError as error:  # cannot move it (permissions): leave it, and never read it again
            self.echo(f"{_clock()} [REJECTED] {name}: {reason}; it could not be moved ({error.strerror})")
            self.refused.add(path)
            return
        target.with_name(target.name + ".reason.txt").write_text(
            f"file: {name}\nrejected at: {utc_now()}\nreason: {reason}\n", encoding="utf-8")
        self.pending.pop(path, None)
        self.processed.pop(path, None)
        self.echo(f"{_clock()} [REJECTED] {name}: {reason} → {target}")

    def poll(self) -> list[IngestReport]:
        """One round: ingest every ready file, then update the live status if rows were stored.

        Returns
        -------
        list of IngestReport
            One per file read this round (files already in the store are skipped without one).
        """
        ready = self._ready()
        digests = {path: _sha256(path) for path, _ in ready}
        known = self._stored_hashes([d for d in digests.values() if d])
        reports, skipped, last = [], [], None
        for path, seen in ready:  # a few files per round; each is one atomic commit
            del self.pending[path]
            self.processed[path] = (seen.size, seen.mtime_ns)
            if digests[path] is None:  # removed, or swapped for a link or special file, since the scan
                self.processed.pop(path, None)
                continue
            if digests[path] in known:
                skipped.append(self._name(path))
                continue
            try:
                report = ingest_file(self.store, path, name=self._name(path))
            except OSError as error:  # removed or unreadable between the scan and the read
                self.processed.pop(path, None)
                self.echo(f"{_clock()} [error] {self._name(path)}: {error}")
                continue
            except Exception as error:  # noqa: BLE001 - a service keeps running; the file says why
                self._reject(path, f"the ingest failed unexpectedly ({type(error).__name__}: {str(error)[:300]}); "
                                   "please report it with this file")
                continue
            reports.append(report)
            self.echo(_report_line(report))
            if report.status == IngestOutcome.REJECTED:
                self._reject(path, report.message)
            if report.rows_stored:
                last = (report.file, seen.first_seen)
        if skipped:  # one line, however many (a restart over a folder of old files)
            listed = skipped[0] if len(skipped) == 1 else f"{len(skipped)} files ({skipped[0]} … {skipped[-1]})"
            self.echo(f"{_clock()} [skip] {listed}: already in the store")
        if last is not None:
            self.update(*last)
        return reports

    def pending_files(self) -> int:
        """Files seen but not yet ready (being written, or waiting for ``settle``)."""
        return len(self.pending)

    def update(self, last_file: str | None = None, seen_at: str | None = None) -> dict | None:
        """Write the live status now; print what it shows (or why it could not be computed)."""
        started = time.perf_counter()
        try:
            status = self.monitor.update(last_file=last_file, seen_at=seen_at)
        except NothingToCompute as error:
            self.echo(f"{_clock()} live status not updated: {error}")
            return None
        if status is None:
            self.echo(f"{_clock()} live status: the store has no interval readings yet; waiting for files")
            return None
        self.echo(f"{_clock()} live {status['day']}: {status['readings']} readings of {status['sites']} sites, "
                  f"{int(self.monitor.frame['unusual'].sum())} unusual, {status['temperature_source']} temperature "
                  f"({time.perf_counter() - started:.2f} s) → {self.monitor.live_dir}")
        self.last_status = status
        return status

    def run(self, *, once: bool = False) -> None:
        """Write the status from the store, then poll until interrupted (Ctrl-C), or with
        ``once`` until every file present has been read."""
        self.update()
        while True:
            self.poll()
            if once and not self.pending:
                return
            time.sleep(self.settings.poll)


def _clock() -> str:
    return time.strftime("%H:%M:%S")


def _report_line(report: IngestReport) -> str:
    """``[ok] name (format): N stored, M quarantined (reasons) · seconds`` and its warnings."""
    mark = {IngestOutcome.STORED: "ok", IngestOutcome.ALREADY_INGESTED: "skip",
            IngestOutcome.REJECTED: "REJECTED"}[report.status]
    line = f"{_clock()} [{mark}] {report.file} ({report.format or '?'}): {report.message} · {report.seconds:.2f} s"
    return "\n".join([line, *(f"   warning: {w}" for w in report.warnings)])
