"""The live pipeline as it runs for real, for the live app's browser test and its latency benchmark
(benchmarks/test_live_latency.py): a copy of a store, `energy serve` reading the live status,
`energy watch` writing it, and the demo feed's files dropped into the watched folder."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from energy_lib.demo import feed
from energy_lib.demo.city import DemoSettings
from energy_lib.ingest.pipeline import ingest_file
from energy_lib.store import Store

ROOT = Path(__file__).resolve().parents[2]
ENERGY = [sys.executable, "-m", "energy_lib.cli"]
STATUS = "[data-testid=live-status]"
"""The app's status line; its ``data-readings`` and ``data-last-reading`` change with each reading."""


@dataclass
class Pipeline:
    """Folders and server of a running pipeline; ``day`` is the day the feed continues with."""

    root: Path
    store: Path
    incoming: Path
    live: Path
    url: str
    day: pd.Timestamp
    logs: Path

    @property
    def app(self) -> str:
        return f"{self.url}/voila/render/live.ipynb"

    @functools.cached_property
    def load(self) -> pd.DataFrame:
        """The demo sites' use on ``day`` (:func:`energy_lib.demo.feed.day_load`; a few seconds, once)."""
        return feed.day_load(self.day, DemoSettings.seed)

    def status(self) -> dict:
        """The watcher's ``status.json`` (empty before its first update)."""
        path = self.live / "status.json"
        return json.loads(path.read_text("utf-8")) if path.exists() else {}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def running(args: list[str], log: Path, ready: Callable[[], bool], *, env: dict | None = None,
            timeout: float = 120) -> Iterator[subprocess.Popen]:
    """``args`` as a process (output to ``log``) once ``ready()``; terminated afterwards.

    Raises
    ------
    RuntimeError
        If the process exits or is not ready within ``timeout`` seconds [s].
    """
    with open(log, "w") as output:
        process = subprocess.Popen(args, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        try:
            deadline = time.monotonic() + timeout
            while not ready():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{' '.join(map(str, args[2:4]))} did not start; see {log}")
                time.sleep(0.2)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextlib.contextmanager
def serving(store: Path, root: Path, logs: Path) -> Iterator[Pipeline]:
    """`energy serve` with its live status in ``root/live``, which nothing writes yet, and a copy
    of ``store`` (the original is never written to) that already holds the first hour of the
    feed's day: the watcher then starts on that day and fits its baselines once, not once for
    the store's last day and again when the first file of the next day arrives."""
    copy = Path(shutil.copytree(store, root / "store"))
    incoming, live = root / "incoming", root / "live"
    incoming.mkdir()
    logs.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{_free_port()}"
    pipeline = Pipeline(root, copy, incoming, live, url, feed.default_day(Store(copy)), logs)
    for name, frame in hour_files(pipeline, 0).items():
        ingest_file(Store(copy), feed.write_atomically(frame, root / "earlier", name))
    with running([*ENERGY, "serve", "--port", url.rsplit(":", 1)[1]], logs / "live-voila.log",
                 lambda: _answers(f"{url}/voila/tree"), env={"ENERGY_LIVE_DIR": str(live)}):
        yield pipeline


@contextlib.contextmanager
def watching(pipeline: Pipeline) -> Iterator[subprocess.Popen]:
    """`energy watch` over the pipeline's folder, once it has written its first status."""
    with running([*ENERGY, "watch", str(pipeline.incoming), "--store", str(pipeline.store), "--live", str(pipeline.live)],
                 pipeline.logs / "live-watch.log", lambda: (pipeline.live / "status.json").exists(),
                 env={"OPENBLAS_NUM_THREADS": "1"}) as process:  # as `make live` runs it (see the Makefile)
        yield process


def hour_files(pipeline: Pipeline, hour: int, anomalies: tuple[feed.Anomaly, ...] = ()) -> dict[str, pd.DataFrame]:
    """The feed's files of ``hour`` of the pipeline's day, one per AMI site, by file name."""
    return feed.hour_files(pipeline.load, pipeline.day, hour, anomalies)


def drop(pipeline: Pipeline, name: str, frame: pd.DataFrame) -> float:
    """Write one file into the watched folder as the feed does (whole, by ``os.replace``);
    the wall-clock time [s since the epoch] when it landed."""
    feed.write_atomically(frame, pipeline.incoming, name)
    return time.time()  # os.replace is write_atomically's last step


def readings(page) -> int:
    """The number of readings the app's status line shows."""
    return int(page.get_attribute(STATUS, "data-readings"))


def wait_for_new_status(page, before: str, timeout: float = 30) -> None:
    """Wait until the status line differs from ``before`` (its ``outerHTML``)."""
    page.wait_for_function("([selector, before]) => { const e = document.querySelector(selector); "
                           "return e !== null && e.outerHTML !== before; }", arg=[STATUS, before], timeout=timeout * 1000)
