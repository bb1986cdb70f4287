"""The Voila server of the citizen apps: light, bounded, and telling one visitor from another.

Voila's own server starts a kernel (a Python process, about 220 MiB with the apps' imports) for
every page load, without limit, and a closed page's kernel lived on until the idle culler came
(its shutdown request was refused, voila-dashboards/voila#1458). :class:`WorkbookVoila` adds:

- **Compression.** ``compress_response``: tornado gzips every text, JavaScript, JSON and SVG
  response; ``websocket_compression_options``: the kernel's WebSocket offers permessage-deflate
  (RFC 7692). Voila's ``tornado_settings`` are applied too late for either, hence
  :meth:`WorkbookVoila.init_settings`.
- **A closed page ends its kernel.** Voila's page sends ``POST /voila/api/shutdown/<kernel>`` with
  the ``_xsrf`` cookie's value when it is left, but ``/voila/render/`` never set that cookie, so
  the request was refused (403). :class:`WorkbookAppHandler` sets it on every app page.
- **A cap on kernels** (:class:`WorkbookKernelManager`, ``max_kernels``): beyond it a visitor
  gets the "busy, try again" page (HTTP 503 with ``Retry-After``, :func:`busy_page`). Preheated
  kernels (Voila's pool) count within the cap: a visitor of an app without a waiting kernel takes
  the place of another app's waiting kernel, and the pool fills again, a kernel at a time, as
  places free up.
- **Few kernels warming up at once** (``max_warming``): a kernel starting and running its notebook
  takes a core for seconds. A visitor whose app has no preheated kernel ready or on its way gets a
  new kernel only if no other is warming up, else the busy page at once rather than a page that
  takes half a minute.
- **Culling of vanished pages.** A kernel whose page has had no WebSocket connection for
  ``orphan_timeout`` seconds is ended, busy or not (the live monitor's kernel is always busy), at
  the culler's next round (``MappingKernelManager.cull_interval``).
- **Kernel counts** for the server's own machine: ``GET /voila/api/workbook/kernels``.
- **Client identity.** Every app page sets a signed long-lived browser cookie and passes the keyed
  id of browser and address to its kernel (:mod:`energy_lib.apps.client`).

Settings: ``energy_lib/config/serving.toml`` (:func:`serving_settings`), overridden by ``energy
serve``'s options. Run as ``python -m energy_lib.apps.serving`` with Voila's command-line
options (``energy serve`` does).

References
----------
.. [1] tornado.web.Application, settings ``compress_response``, ``websocket_compression_options``
   (https://www.tornadoweb.org/en/stable/web.html).
.. [2] RFC 7692, Compression Extensions for WebSocket (2015).
.. [3] voila-dashboards/voila#1458, "403 POST: '_xsrf' argument missing from POST when closing kernel".
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import tornado.web
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.utils import url_path_join
from tornado.ioloop import PeriodicCallback
from traitlets import Float, Integer, default
from voila.app import Voila
from voila.request_info_handler import RequestInfoSocketHandler
from voila.tornado.handler import TornadoVoilaHandler

from energy_lib.apps import client
from energy_lib.core import configuration, i18n, templating

__all__ = ["ServingSettings", "serving_settings", "kernel_cap", "busy_page", "CapReached", "WorkbookKernelManager",
           "WorkbookAppHandler", "WorkbookStatusHandler", "WorkbookVoila", "main"]

MIB = 1024 * 1024
APP_TEMPLATES = Path(__file__).resolve().parent / "templates"
"""The apps' Voila template (``jupyter/``, put on the Jupyter path by ``energy serve``)."""


@dataclass(frozen=True)
class ServingSettings:
    """How many app kernels may run, which apps keep one ready, and when a page's kernel ends
    (``energy_lib/config/serving.toml`` explains each)."""

    max_kernels: int
    """[kernels] the cap: pages' and preheated kernels together."""
    max_warming: int
    """[kernels] most kernels starting or running their notebook at once."""
    retry_after_s: int
    """[s] the busy page's Retry-After."""
    pool_size: int
    """[kernels] preheated for each app of ``pool_apps``; 0: none."""
    pool_apps: tuple[str, ...]
    """Notebooks (names in the apps' folder) that keep preheated kernels."""
    orphan_timeout_s: float
    """[s] without a connected page before a kernel is ended."""
    cull_interval_s: float
    """[s] between the culler's rounds."""
    idle_timeout_s: float
    """[s] without any activity before a kernel is ended, its page connected or not."""


def kernel_cap(available_bytes: int, *, per_kernel_mib: float, reserve_mib: float, low: int, high: int) -> int:
    """The number of app kernels that fit in memory: ``(available − reserve) / per kernel``,
    rounded down and kept within ``[low, high]``.

    Parameters
    ----------
    available_bytes : int
        [bytes] memory available to new processes (Linux ``MemAvailable``).
    per_kernel_mib : float
        [MiB] resident memory of one app kernel.
    reserve_mib : float
        [MiB] kept for the server and the rest of the machine.
    low, high : int
        [kernels] bounds of the result.
    """
    if low < 1 or high < low:
        raise ValueError(f"the cap's bounds must satisfy 1 <= low <= high, not low={low}, high={high}")
    fitting = int((available_bytes / MIB - reserve_mib) // per_kernel_mib)
    return min(max(fitting, low), high)


def serving_settings(available_bytes: int | None = None, **overrides) -> ServingSettings:
    """The settings of ``config/serving.toml``, with ``overrides`` (fields of
    :class:`ServingSettings`, ``None`` meaning "as configured") applied.

    ``available_bytes`` [bytes] sizes an automatic cap (``max = "auto"``); by default the memory
    available now (psutil).
    """
    config = configuration.load("serving")
    kernels, pool, culling = config["kernels"], config["pool"], config["culling"]
    if kernels["max"] == "auto" and overrides.get("max_kernels") is None:
        if available_bytes is None:
            import psutil

            available_bytes = psutil.virtual_memory().available
        cap = kernel_cap(available_bytes, per_kernel_mib=kernels["per_kernel_mib"], reserve_mib=kernels["reserve_mib"],
                         low=kernels["min"], high=kernels["max_auto"])
    elif kernels["max"] == "auto":
        cap = overrides["max_kernels"]
    else:
        cap = int(kernels["max"])
    warming = max(1, (os.cpu_count() or 1) // 2) if kernels["warming"] == "auto" else int(kernels["warming"])
    configured = ServingSettings(
        max_kernels=cap, max_warming=warming, retry_after_s=int(kernels["retry_after_s"]), pool_size=int(pool["size"]),
        pool_apps=tuple(pool["apps"]), orphan_timeout_s=float(culling["orphan_timeout_s"]),
        cull_interval_s=float(culling["interval_s"]), idle_timeout_s=float(culling["idle_timeout_s"]))
    chosen = replace(configured, **{name: value for name, value in overrides.items() if value is not None})
    if min(chosen.max_kernels, chosen.max_warming) < 1 or chosen.pool_size < 0 or min(chosen.orphan_timeout_s, chosen.cull_interval_s) <= 0:
        raise ValueError(f"serving settings out of range: {chosen}")
    return chosen


def busy_page(*, base_url: str, retry_url: str, retry_after_s: int) -> str:
    """The "busy, try again" page, in Korean then English (``energy_lib/core/templates/serving/busy.html.j2``)."""
    words = {lang: {key.rsplit(".", 1)[1]: i18n.text(key, lang, seconds=retry_after_s)
                    for key in ("apps.busy.title", "apps.busy.message", "apps.busy.retry")} for lang in i18n.LANGUAGES}
    return templating.render("serving/busy.html.j2", base_url=base_url, retry_url=retry_url, **words)


class CapReached(RuntimeError):
    """Every kernel the cap allows is running, and none of them waits in the pool."""


class WorkbookKernelManager(AsyncMappingKernelManager):
    """Jupyter's kernel manager with a cap on kernels, a limit on kernels warming up at once, and
    an end for kernels whose page is gone.

    With preheating on, Voila builds its pool manager as a subclass of this class: ``_pools``
    (notebook → tasks giving ``{"kernel_id": …, "task": <the notebook's run>}``) and
    ``fill_if_needed`` are Voila's (0.5).
    """

    max_kernels = Integer(12, config=True, help="Most kernels running at once, preheated ones included.")
    max_warming = Integer(1, config=True, help="Most kernels starting or running their notebook at once.")
    orphan_timeout = Float(60.0, config=True, help="[s] a kernel whose page has had no connection this long is ended.")
    refill_interval = Float(2.0, config=True, help="[s] between looks at whether the pool can fill.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._alone_since: dict[str, float] = {}  # kernel id → when its last connection closed [monotonic s]
        self._refiller: PeriodicCallback | None = None
        self._stopping = False  # the server is stopping: preheated starts waiting their turn give up
        self._preheated: set[str] = set()  # ids of kernels started for the pool, handed to a page or not

    def running(self) -> int:
        """Kernels running or starting (``list_kernel_ids`` leaves out those still starting)."""
        return len(set(self._kernels) | self._starting())

    def _starting(self) -> set[str]:
        return {kernel_id for kernel_id, task in self._pending_kernels.items() if not task.done()}

    def warming(self) -> int:
        """Kernels starting or running their notebook: a page's before the page connects, a
        preheated one until its notebook has run. Each takes a core for seconds. A preheated
        kernel whose notebook waits for its visitor (``voila.utils.wait_for_request``, e.g. the
        board's, so that it lists the posts as they are when the page opens) uses no core while it
        waits and is not counted: otherwise it would hold the warm-up slot until a visitor came."""
        busy = {kernel_id for kernel_id, kernel in self._kernels.items() if not self._kernel_connections.get(kernel_id)
                and getattr(kernel, "execution_state", None) in ("starting", "busy")}
        preheating = {kernel_id for kernel_id, rendered in self._pooled().items() if not rendered}
        waiting_for_a_visitor = set(RequestInfoSocketHandler._waiters)
        return len((self._starting() | busy | preheating) - waiting_for_a_visitor)

    def _pool(self) -> dict[str, list[asyncio.Task]]:
        return getattr(self, "_pools", {})

    def _pooled(self) -> dict[str, bool]:
        """Preheated kernels not yet handed to a page: kernel id → whether its notebook has run."""
        return {task.result()["kernel_id"]: task.result()["task"].done() for tasks in self._pool().values()
                for task in tasks if task.done() and not task.cancelled() and task.exception() is None}

    def _drop_failed(self) -> None:
        """Take failed pool starts (refused by the cap) out of the pool, or Voila would hand one
        to a visitor; ``exception()`` also marks the error as seen (no "never retrieved" log)."""
        for tasks in self._pool().values():
            tasks[:] = [task for task in tasks if not (task.done() and (task.cancelled() or task.exception() is not None))]

    def _can_start(self) -> bool:
        return self.running() < self.max_kernels and self.warming() < self.max_warming

    def has_room(self, notebook: str) -> bool:
        """Whether a visitor of ``notebook`` (a path in the apps' folder) can be served soon: a
        preheated kernel of the app waits or is on its way (Voila hands it to the visitor), or a
        kernel may start now (nothing else is warming up, and the cap is not reached or a waiting
        kernel of another app can give way). Otherwise the visitor would wait behind other
        kernels' start for many seconds: better the busy page at once."""
        self._drop_failed()
        if self._pool().get(notebook):
            return True
        return self.warming() < self.max_warming and (self.running() < self.max_kernels or bool(self._pooled()))

    async def _end_a_waiting_kernel(self) -> bool:
        """End one preheated kernel to make room for a visitor; whether there was one."""
        for kernel_id in self._pooled():
            self.log.info("Kernel cap %d reached: ending the preheated kernel %s for a visitor", self.max_kernels, kernel_id)
            await self.shutdown_kernel(kernel_id)
            return True
        return False

    def _refill(self) -> None:
        """Start one preheated kernel for an app whose pool is short, if a kernel may start."""
        fill = getattr(self, "fill_if_needed", None)  # Voila's, when preheating is on
        self._drop_failed()
        if fill is None or not self._can_start():
            return
        sizes = getattr(self, "kernel_pools_config", {})
        for notebook, tasks in list(self._pool().items()):
            if len(tasks) < sizes.get(notebook, sizes.get("default", {})).get("pool_size", 0):
                fill(notebook_name=notebook, delay=0)  # Voila starts what the pool lacks; one may start now
                return

    def status(self) -> dict[str, int]:
        """Counts for operators (and tests): kernels running (pages' and preheated), the cap,
        those warming up, preheated ones not yet handed to a page, and pages' kernels.

        A pool kernel still starting is not in Voila's pool yet, but it is no page's either: pages'
        kernels are those started for a page and the preheated ones Voila has handed to one."""
        running = set(self._kernels) | self._starting()
        preheated = self._preheated & running & (set(self._pooled()) | self._starting())
        pages = running - preheated
        return {"kernels": len(running), "cap": self.max_kernels, "warming": self.warming(),
                "preheated": len(preheated), "pages": len(pages)}

    async def start_kernel(self, *args, **kwargs) -> str:
        """Start a kernel within the cap: a visitor's start ends a waiting preheated kernel when
        the cap is reached; a preheated start never does, and waits while other kernels warm up.
        Raises :class:`CapReached`."""
        if self._refiller is None:  # the pool fills by itself as kernels end or finish warming up
            self._refiller = PeriodicCallback(self._refill, self.refill_interval * 1000)
            self._refiller.start()
        if (kwargs.get("env") or {}).get("VOILA_PREHEAT") == "True":
            # a preheated kernel waits its turn to warm up (a visitor of its app waits with it); the
            # check and the start's registration run without a pause, so two never start together
            while self.warming() >= self.max_warming and not self._stopping:
                await asyncio.sleep(0.5)
            if self._stopping or self.running() >= self.max_kernels:
                raise CapReached("no place to preheat a kernel now")
            kernel_id = kwargs.pop("kernel_id", None) or self.new_kernel_id()
            self._preheated.add(kernel_id)
            return await super().start_kernel(*args, kernel_id=kernel_id, **kwargs)
        # a loop, not an if: another start may take the freed place while the shutdown is awaited
        while self.running() >= self.max_kernels:
            if not await self._end_a_waiting_kernel():
                raise CapReached(f"all {self.max_kernels} app kernels are in use")
        return await super().start_kernel(*args, **kwargs)

    async def shutdown_kernel(self, kernel_id: str, *args, **kwargs) -> None:
        """End a kernel and forget what was kept for it."""
        await super().shutdown_kernel(kernel_id, *args, **kwargs)
        self._alone_since.pop(kernel_id, None)
        self._preheated.discard(kernel_id)
        RequestInfoSocketHandler._cache.pop(kernel_id, None)  # Voila keeps every page's request info otherwise

    async def shutdown_all(self, *args, **kwargs) -> None:
        self._stopping = True
        if self._refiller is not None:
            self._refiller.stop()
        await super().shutdown_all(*args, **kwargs)

    def notify_connect(self, kernel_id: str) -> None:
        super().notify_connect(kernel_id)
        self._alone_since.pop(kernel_id, None)

    def notify_disconnect(self, kernel_id: str) -> None:
        super().notify_disconnect(kernel_id)
        if self._kernel_connections.get(kernel_id) == 0:
            self._alone_since[kernel_id] = time.monotonic()

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        """End a kernel whose page has been gone ``orphan_timeout`` seconds, busy or not; else
        Jupyter's idle rule. (Voila's pool manager skips its waiting kernels before this.)"""
        if kernel_id not in self._kernels:  # ended while the culler went round (its page was closed)
            return
        if not self._kernel_connections.get(kernel_id):
            now = time.monotonic()
            if getattr(self._kernels.get(kernel_id), "execution_state", None) in ("starting", "busy"):
                # running its notebook: the page connects when the notebook has run (a slow machine
                # can take longer than the timeout), so its clock starts when the notebook is done
                self._alone_since[kernel_id] = now
            # a kernel first seen here (handed from the pool to a page) gets the whole timeout too
            alone = now - self._alone_since.setdefault(kernel_id, now)
            if alone > self.orphan_timeout:
                self.log.warning("Ending kernel %s: its page has had no connection for %d s", kernel_id, alone)
                await self.shutdown_kernel(kernel_id)
                return
        await super().cull_kernel_if_idle(kernel_id)


class WorkbookAppHandler(TornadoVoilaHandler):
    """Voila's app page with the ``_xsrf`` cookie, the browser's cookie, and the busy page."""

    async def prepare(self) -> None:
        await super().prepare()
        # tornado sets the _xsrf cookie when the token is first read: the page's shutdown request
        # sends the cookie's value back, and without it the kernel outlived its page (voila#1458)
        self.xsrf_token  # noqa: B018 - read for its effect
        self.request.headers[client.HEADER] = self._client_key()  # replaces whatever the browser sent

    def _client_key(self) -> str:
        """The keyed id of this browser at this address; sets the browser's cookie when it has
        none (or a forged or expired one)."""
        signed = self.get_secure_cookie(client.COOKIE, max_age_days=client.COOKIE_DAYS)
        browser_id = signed.decode("ascii") if signed else client.new_browser_id()
        if not signed:
            self.set_secure_cookie(client.COOKIE, browser_id, expires_days=client.COOKIE_DAYS, httponly=True,
                                   samesite="Lax", path=self.base_url)
        return client.browser_key(browser_id, self.request.remote_ip or "", self.settings["workbook_client_secret"])

    @tornado.web.authenticated
    async def get(self, path: str | None = None) -> None:
        notebook = self.notebook_path or path or ""
        manager = self.kernel_manager
        if notebook.endswith(".ipynb") and isinstance(manager, WorkbookKernelManager) and not manager.has_room(notebook):
            return self._busy()
        written = False
        try:
            async for html in self.get_generator(path=path):
                self.write(html)
                self.flush()
                written = True
        except CapReached:  # the last place went to another visitor between the check and the start
            if written:
                raise
            self._busy()

    def _busy(self) -> None:
        seconds = self.settings["workbook_retry_after_s"]
        self.set_status(503)
        self.set_header("Retry-After", str(seconds))
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(busy_page(base_url=self.base_url, retry_url=self.request.uri, retry_after_s=seconds))


class WorkbookStatusHandler(JupyterHandler):
    """``GET /voila/api/workbook/kernels``: the kernel manager's counts as JSON, to the server's
    own machine only (a monitor, the tests; nobody else needs to know how busy the server is)."""

    @tornado.web.authenticated
    def get(self) -> None:
        if not ipaddress.ip_address(self.request.remote_ip or "0.0.0.0").is_loopback:
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(self.kernel_manager.status()))


class WorkbookVoila(Voila):
    """Voila with compression, bounded kernels, closed pages' kernels ended, and client identity."""

    retry_after = Integer(30, config=True, help="[s] the busy page's Retry-After.")

    @default("cookie_secret")
    def _stable_cookie_secret(self) -> bytes:
        # derived from the workbook's key: browsers' cookies (and so their keys) outlive a restart
        return client.cookie_secret()

    def initialize(self, argv=None) -> None:
        super().initialize(argv)
        configuration_ = self.voila_configuration
        configuration_.multi_kernel_manager_class = WorkbookKernelManager
        configuration_.http_header_envs = [*configuration_.http_header_envs, client.HEADER]

    def init_settings(self) -> dict:
        """Voila's tornado settings with compression on (read when the application is built) and
        what the app pages need."""
        settings = super().init_settings()
        settings["compress_response"] = True
        settings["websocket_compression_options"] = {}
        settings["workbook_client_secret"] = client.secret()
        settings["workbook_retry_after_s"] = self.retry_after
        return settings

    def init_handlers(self) -> list:
        """Voila's handlers, the app pages served by :class:`WorkbookAppHandler`."""
        handlers = [(pattern, WorkbookAppHandler, *rest) if handler is TornadoVoilaHandler else (pattern, handler, *rest)
                    for pattern, handler, *rest in super().init_handlers()]
        return [(url_path_join(self.server_url, "/voila/api/workbook/kernels"), WorkbookStatusHandler), *handlers]


def main() -> None:
    """Start the server with the command line's Voila options."""
    WorkbookVoila.launch_instance()


if __name__ == "__main__":
    main()
