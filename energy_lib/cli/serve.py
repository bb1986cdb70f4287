"""`energy serve`, `energy watch`: the citizen apps and the inbox watcher."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from energy_lib.cli.app import NotebooksOption, StoreOption, app, open_store
from energy_lib.cli.keys import require_key


@app.command()
def serve(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the Voila server.")] = 8866,
    site: Annotated[Path, typer.Option(help="The published site the apps show (energy publish).")] = Path("reports/site"),
    open_browser: Annotated[bool, typer.Option("--open-browser/--no-browser", help="Open a browser tab.")] = False,
    max_kernels: Annotated[Optional[int], typer.Option(
        min=1, help="Most app kernels at once, preheated ones included; beyond it visitors get a 'busy, try again' "
                    "page (default: config/serving.toml, sized to the memory available).")] = None,
    max_warming: Annotated[Optional[int], typer.Option(
        min=1, help="Most app kernels starting or running their notebook at once (default: one per two cores).")] = None,
    pool_size: Annotated[Optional[int], typer.Option(
        min=0, help="Preheated kernels kept ready for each app of config/serving.toml's [pool]; 0: none.")] = None,
    orphan_timeout: Annotated[Optional[float], typer.Option(
        min=0.1, help="Seconds a kernel may live without a connected page (a dropped tab) before it is ended.")] = None,
    cull_interval: Annotated[Optional[float], typer.Option(
        min=0.1, help="Seconds between the checks for kernels without a page.")] = None,
    notebooks: NotebooksOption = Path("notebooks"),
) -> None:
    """Serve the citizen apps (notebooks/apps: ward explorer, my savings, bulletin board, live
    monitor) with Voila: sources stripped, tracebacks hidden, kernels bounded (a cap with a
    "busy, try again" page beyond it, preheated kernels within it, a closed or vanished page's
    kernel ended; config/serving.toml), the Korean font (a subset, energy_lib/publish/fonts.py)
    served with the apps, nothing loaded from a CDN (the workbook-app Voila template) and
    responses compressed (energy_lib/apps/serving.py). The board's database is
    $ENERGY_BOARD_URL (default data/board.sqlite3); the household index $ENERGY_HOUSEHOLD_INDEX
    (default data/apps/household_index.parquet, from `energy household-index`). Client ids (rate
    limits, lockouts) and the cookies behind them are keyed with the secret key (energy keys)."""
    from energy_lib.apps.serving import APP_TEMPLATES, serving_settings
    from energy_lib.publish import fonts

    require_key()  # "my savings" turns customer numbers into pseudonyms with it
    try:
        chosen = serving_settings(max_kernels=max_kernels, max_warming=max_warming, pool_size=pool_size, orphan_timeout_s=orphan_timeout,
                                  cull_interval_s=cull_interval)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    apps = notebooks / "apps"
    if not apps.is_dir():
        raise typer.BadParameter(f"{apps} is not a folder of app notebooks", param_hint="--notebooks")
    fonts.write_app_fonts(apps / "assets", notebooks)  # served by Voila from apps/assets/
    # Voila finds its templates on the Jupyter data path: ours is Voila's lab template without CDN links
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(APP_TEMPLATES / "jupyter"), os.environ.get("JUPYTER_PATH")]))
    os.environ["ENERGY_SITE"] = str(site.resolve())
    # the board's default SQLite file is relative; the apps' kernels run in notebooks/apps
    os.environ.setdefault("ENERGY_BOARD_URL", f"sqlite:///{(Path('data') / 'board.sqlite3').resolve()}")
    os.environ.setdefault("ENERGY_HOUSEHOLD_INDEX", str(Path("data/apps/household_index.parquet").resolve()))
    # Voila with compression, the kernel cap and culling (energy_lib/apps/serving.py)
    command = [sys.executable, "-m", "energy_lib.apps.serving", str(apps), f"--port={port}", "--Voila.ip=127.0.0.1",
               "--strip_sources=True", "--show_tracebacks=False", "--theme=light",
               f"--WorkbookKernelManager.max_kernels={chosen.max_kernels}",
               f"--WorkbookKernelManager.max_warming={chosen.max_warming}",
               f"--WorkbookKernelManager.orphan_timeout={chosen.orphan_timeout_s}",
               f"--WorkbookVoila.retry_after={chosen.retry_after_s}",
               f"--MappingKernelManager.cull_interval={max(1, round(chosen.cull_interval_s))}",
               f"--MappingKernelManager.cull_idle_timeout={max(1, round(chosen.idle_timeout_s))}",
               "--MappingKernelManager.cull_connected=True",
               r"--VoilaConfiguration.file_allowlist=.*\.(png|jpg|gif|svg|woff2|css)", "--template=workbook-app",
               "--VoilaExecutor.timeout=60", "--HTMLExporter.language_code=ko"]
    if chosen.pool_size:
        # the apps' kernels are started and their notebooks run before anyone asks: first render is
        # then the page, not kernel start and imports (jupyter-stack.md: 1.5 s vs 5.2 s)
        command += ["--preheat_kernel=True", f"--pool_size={chosen.pool_size}"]
        command += [f"--VoilaKernelManager.preheat_denylist={notebook.name}" for notebook in sorted(apps.glob("*.ipynb"))
                    if notebook.name not in chosen.pool_apps]
    if not open_browser:
        command.append("--no-browser")
    typer.echo(f"apps at http://127.0.0.1:{port}/voila/render/index.ipynb (site: {site}; at most {chosen.max_kernels} "
               f"app kernels, {chosen.pool_size} preheated per app)")
    os.execv(sys.executable, command)


@app.command()
def watch(
    directory: Annotated[Path, typer.Argument(help="Folder the utilities' files land in (sub-folders too).")],
    live: Annotated[Path, typer.Option("--live", envvar="ENERGY_LIVE_DIR",
                                       help="Where the live status (status.parquet, status.json) is written; also $ENERGY_LIVE_DIR.")] = Path("data/live"),
    poll: Annotated[float, typer.Option(min=0.05, help="Seconds between scans of the folder.")] = 0.5,
    settle: Annotated[float, typer.Option(min=0.0, help="Seconds a file must stay unchanged (and end with a line break) before it is read.")] = 0.5,
    settle_max: Annotated[float, typer.Option(min=0.0, help="Seconds after which an unchanged file without a final line break is read anyway.")] = 30.0,
    confidence: Annotated[float, typer.Option(min=0.5, max=0.999, help="Level of the expected-use interval outside which use is flagged unusual.")] = 0.95,
    once: Annotated[bool, typer.Option("--once", help="Read the files that are there, update the status, and exit.")] = False,
    rejected: Annotated[Path | None, typer.Option(help="Where links, special files and files that cannot be read are moved, "
                                                       "each with a .reason.txt (default: DIRECTORY/.rejected).")] = None,
    store: StoreOption = Path("data/store"),
) -> None:
    """Ingest files as they land in DIRECTORY and keep the live day's expected-versus-actual use
    (TOWT baselines of the interval meters) up to date in --live (docs/monitoring.md). Ctrl-C stops."""
    from energy_lib.realtime.live import LiveMonitor, LiveSettings
    from energy_lib.realtime.watch import Watcher, WatchSettings

    if not directory.is_dir():
        raise typer.BadParameter(f"{directory} is not a folder; create it, or give the folder the files land in",
                                 param_hint="DIRECTORY")
    require_key()
    try:
        timing = WatchSettings(poll=poll, settle=settle, settle_max=settle_max)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    target = open_store(store)
    watcher = Watcher(directory, target, LiveMonitor(target, live, LiveSettings(confidence=confidence)), timing,
                      echo=typer.echo, rejected=rejected)
    if not once:
        typer.echo(f"watching {directory} (every {poll:g} s) into {target.root}; live status in {live}. Ctrl-C stops.")
    try:
        watcher.run(once=once)
    except KeyboardInterrupt:
        typer.echo(f"stopped; {len(watcher.pending)} file(s) were still being written and were not read")
