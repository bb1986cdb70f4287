"""Scratch folders that a killed process does not leave behind for good.

A stage that works through files on disk (the compute stage's partitions of the readings, DuckDB's
spill files) makes its scratch folder with :func:`scratch_folder`. The folder's name carries the
owner's process id, ``.<prefix>-<pid>-<random>``; a normal exit removes it, and a process killed
without a chance to clean up (SIGKILL, out of memory, power cut) leaves it to the next process that
makes a scratch folder with the same prefix under the same parent: :func:`remove_abandoned` deletes
every such folder whose owner is no longer running.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["scratch_folder", "new_scratch_folder", "remove_abandoned"]


def _owner_running(pid: int) -> bool:
    """True if a process with id ``pid`` exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned(parent: Path, prefix: str) -> list[Path]:
    """Delete the scratch folders ``parent/.<prefix>-<pid>-*`` whose process has ended.

    Returns
    -------
    list of pathlib.Path
        The folders removed.
    """
    pattern = re.compile(rf"\.{re.escape(prefix)}-(\d+)-[0-9a-f]+")
    removed = []
    if not parent.is_dir():
        return removed
    for entry in sorted(parent.iterdir()):
        match = pattern.fullmatch(entry.name)
        if match and entry.is_dir() and not entry.is_symlink() and not _owner_running(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def new_scratch_folder(parent: Path, prefix: str) -> Path:
    """Create ``parent/.<prefix>-<this pid>-<random>`` after removing abandoned ones; the caller
    removes it (or a later process does, once this one has ended)."""
    parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned(parent, prefix)
    folder = parent / f".{prefix}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    folder.mkdir()
    return folder


@contextlib.contextmanager
def scratch_folder(parent: Path, prefix: str) -> Iterator[Path]:
    """A scratch folder for the block (see :func:`new_scratch_folder`), removed when it ends."""
    folder = new_scratch_folder(parent, prefix)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
