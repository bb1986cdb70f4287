"""Where the compute stage's per-meter work runs: in this process, or on a Dask cluster.

The compute stage splits the meters into buckets whose baselines are independent of each other
(partitioning by meter, :mod:`energy_lib.compute.partitions`); a task is a bucket's number, and reads the
bucket's readings itself. An engine runs one function over the buckets and gives the results back
in the buckets' order, so the derived tables are the same whichever engine made them:

* :class:`LocalEngine` runs the buckets on this machine: one after the other in this process, or
  on a pool of worker processes (one per core; each bucket is vectorised NumPy, so processes, not
  threads, run them in parallel).
* :class:`DaskEngine` sends them to a ``dask.distributed`` cluster: an existing scheduler
  (``tcp://HOST:PORT``) or, without one, a local cluster of worker processes. Values every task
  needs (the temperature series, the participants) are scattered to the workers once.

>>> with engine_for("dask", scheduler=None, workers=2) as engine:
...     results = list(engine.map(function, range(buckets), temperatures=temp_c))
"""

from __future__ import annotations

import functools
import multiprocessing
import os
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
    """Items on this machine: in this process (``workers=1``) or on ``workers`` processes.

    Worker processes are fresh interpreters (``spawn``: nothing inherited from this process's
    threads) with one BLAS thread each, so that two workers on two cores do not oversubscribe
    them; results come back in the items' order.
    """

    name = "local"

    def __init__(self, workers: int = 1):
        self._pool = None
        if workers > 1:
            saved = {name: os.environ.get(name) for name in _ONE_THREAD}
            os.environ.update(_ONE_THREAD)  # read by the workers' NumPy at import
            try:
                self._pool = multiprocessing.get_context("spawn").Pool(workers)
            finally:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value

    def map(self, function: Callable, items: Iterable, **shared: Any) -> Iterator:
        if self._pool is None:
            for item in items:
                yield function(item, **shared)
        else:
            yield from self._pool.imap(functools.partial(function, **shared), items)

    def __exit__(self, *exc) -> None:
        if self._pool is None:
            return
        if exc[0] is None:
            self._pool.close()  # let the workers finish and exit
        else:
            self._pool.terminate()
        self._pool.join()


_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


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
        futures = [self.client.submit(function, item, **scattered, pure=False) for item in items]
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


def engine_for(name: str, *, scheduler: str | None = None, workers: int = 1) -> Engine:
    """The engine called ``name`` (``local`` or ``dask``; :func:`check` says what is accepted),
    with ``workers`` processes (local: 1 is this process; dask: the local cluster's size)."""
    check(name, scheduler)
    return DaskEngine(scheduler, workers=workers) if name == "dask" else LocalEngine(workers)
