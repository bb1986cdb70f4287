"""Helpers for benchmarks: run a command and measure its wall time and the peak memory of its
whole process tree (parent and worker processes together), as a user would see it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENERGY = [sys.executable, "-m", "energy_lib.cli"]


@dataclass
class Run:
    seconds: float
    peak_rss_bytes: int
    output: str


def _tree_rss(pid: int) -> int:
    """Resident memory [bytes] of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return total


def run_measured(args: list[str], env: dict | None = None, *, check: bool = True) -> Run:
    """Run ``args``; sample the process tree's memory every 0.2 s. With ``check``, a non-zero exit
    fails (a command expected to refuse its input passes ``check=False``)."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, **(env or {})})
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    if check and process.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{output[-3000:]}")
    return Run(seconds, peak, output)


@pytest.fixture
def measured():
    return run_measured
