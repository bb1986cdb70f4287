"""Where the compute stage's per-meter work runs: in this process, or on a Dask cluster.

The compute stage splits the meters into chunks whose baselines are independent of each other
(partitioning by meter). An engine runs one function over the chunks and gives the results back
in the chunks' order, so the derived tables are the same whichever engine made them:

* :class:`LocalEngine` runs the chunks one after the other in this process (the default: one
  machine, vectorised within a chunk).
* :class:`DaskEngine` sends them to a ``dask.distributed`` cluster: an existing scheduler
  (``tcp://HOST:PORT``) or, without one, a local cluster of worker processes. Values every chunk
  needs (the temperature series) are scattered to the workers once.

>>> with engine_for("dask", scheduler=None, workers=2) as engine:
...     results = list(engine.map(function, chunks, temperatures=temp_c))
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

__all__ = ["Engine", "LocalEngine", "DaskEngine", "engine_for", "check", "ENGINES"]

ENGINES = ("local", "dask")


class Engine(AbstractContextManager):
    """Runs ``function(item, **shared)`` for every item and yields the results in the items' order."""

    name = "engine"

    @abstractmethod
    def map(self, function: Callable, items: Iterable, **shared: Any) -> Iterator:
        """``function(item, **shared)`` of every item, in the items' order."""

    def __exit__(self, *exc) -> None:
        return None


class LocalEngine(Engine):
    """Every item in this process, one after the other."""

    name = "local"

    def map(self, function: Callable, items: Iterable, **shared: Any) -> Iterator:
        for item in items:
            yield function(item, **shared)


class DaskEngine(Engine):
    """Items as tasks of a ``dask.distributed`` cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://10.0.0.5:8786``); None starts a local cluster of
        ``workers`` processes with one thread each (the chunks are vectorised NumPy: processes,
        not threads, run them in parallel).
    workers : int
        Worker processes of the local cluster.
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, *, workers: int = 2):
        from distributed import Client, LocalCluster

        self._cluster = None if scheduler else LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                            dashboard_address=":0")  # any free port
        self.client = Client(scheduler or self._cluster)

    def map(self, function: Callable, items: Iterable, **shared: Any) -> Iterator:
        scattered = {name: self.client.scatter(value, broadcast=True) for name, value in shared.items()}
        # each item is sent as data, not inside the task graph (a chunk's readings are megabytes)
        futures = [self.client.submit(function, self.client.scatter(item), **scattered, pure=False) for item in items]
        try:
            for future in futures:  # in submission order: the derived tables do not depend on timing
                yield future.result()
        finally:
            self.client.cancel(futures)

    def __exit__(self, *exc) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def check(name: str, scheduler: str | None = None) -> None:
    """Raise ValueError, saying what to write instead, unless ``name`` is an engine and a
    ``scheduler`` comes only with the ``dask`` engine."""
    if name not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {name!r}")
    if scheduler and name != "dask":
        raise ValueError("a scheduler address needs the dask engine (--engine dask)")


def engine_for(name: str, *, scheduler: str | None = None, workers: int = 2) -> Engine:
    """The engine called ``name`` (``local`` or ``dask``; :func:`check` says what is accepted)."""
    check(name, scheduler)
    return DaskEngine(scheduler, workers=workers) if name == "dask" else LocalEngine()
