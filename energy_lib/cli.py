"""The ``energy`` command: set up the store, ingest utility exports, build the demo city, inspect.

Run ``energy --help`` for the commands and ``energy COMMAND --help`` for each one's options.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer

from energy_lib import inventory, reconcile, wards
from energy_lib import board_cli, keys_cli
from energy_lib.core import keys
from energy_lib.ingest.formats import Options
from energy_lib.ingest.pipeline import DATA_SUFFIXES, IngestReport, data_files, ensure_reference, ingest_files
from energy_lib.ingest.problems import excerpt
from energy_lib.ingest.registry import FORMATS
from energy_lib.store import Store

app = typer.Typer(
    help="Gwangju energy information workbook: collect the utilities' exports into one store, build the "
         "demo city, compute baselines and savings, publish the reports and serve the citizen apps.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(board_cli.app, name="board")
app.add_typer(keys_cli.app, name="keys")

StoreOption = Annotated[Path, typer.Option("--store", envvar="ENERGY_STORE",
                                           help="Store directory (Parquet tables); also $ENERGY_STORE.")]
WorkersOption = Annotated[int, typer.Option(
    "--workers", "-j", min=1, help="Processes that read and check files at once (commits stay in order).")]


def _store(path: Path) -> Store:
    return Store(path)


def _table(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False) if len(frame) else "(none)"


@app.command()
def init(
    store: StoreOption = Path("data/store"),
    rebuild_reference: Annotated[bool, typer.Option(
        "--rebuild-reference", help="Rewrite the ward table, code crosswalk and legal-dong links from "
                                    "energy_lib/reference and config/wards.toml (after editing them).")] = False,
) -> None:
    """Create the store and load the reference tables (wards, code crosswalk, legal dongs)."""
    target = _store(store)
    ensure_reference(target, rebuild=rebuild_reference)
    typer.echo(f"store {target.root}: {target.rows('wards')} wards, {target.rows('ward_codes')} known codes, "
               f"{target.rows('legal_dongs')} legal-dong links")


def _print_report(report: IngestReport, target: Store, show: int) -> None:
    mark = {"stored": "ok", "already_ingested": "skip", "rejected": "REJECTED"}[report.status]
    typer.echo(f"[{mark}] {report.file} ({report.format or '?'}): {report.message}")
    for warning in report.warnings:
        typer.echo(f"   warning: {warning}")
    if show and report.rows_quarantined:
        # only the rows shown are read: a file can have a million quarantined rows
        rows = target.sql("SELECT source_row, \"column\", reason, message FROM quarantine WHERE source_file = ? "
                          "ORDER BY source_row LIMIT ?", [report.file, show])
        for row in rows.itertuples():
            where = f"row {row.source_row}" + (f", column '{row.column}'" if pd.notna(row.column) else "")
            typer.echo(f"   {where}: {row.reason}: {row.message}")
        if report.rows_quarantined > show:
            typer.echo(f"   … and {report.rows_quarantined - show} more: energy quarantine --file '{report.file}'")


@app.command()
def ingest(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Export files (CSV/TSV in UTF-8, UTF-8-BOM, CP949 or "
                                                               "UTF-16; XLSX; JSON) or directories of them.")] = None,
    manifest: Annotated[Optional[Path], typer.Option(
        help="Ingest the files of a manifest.json (as `energy demo` writes) in its order, each with its own format and options.")] = None,
    format: Annotated[Optional[str], typer.Option(
        "--format", "-f", help="Import format (see `energy formats`); detected from the header when left out.")] = None,
    carrier: Annotated[Optional[str], typer.Option(help="Carrier when the file does not say: electricity, gas, water, heat.")] = None,
    unit: Annotated[Optional[str], typer.Option(help="Unit when the file does not say (kWh, m³, MJ, Gcal, TJ, …).")] = None,
    provider: Annotated[Optional[str], typer.Option(help="Utility the file comes from (default per carrier: config/ingest.toml).")] = None,
    encoding: Annotated[Optional[str], typer.Option(help="Text encoding, instead of detecting it (utf-8, cp949, …).")] = None,
    station: Annotated[Optional[str], typer.Option(help="Weather station number when the file has none (Gwangju: 156).")] = None,
    timestamps: Annotated[str, typer.Option(help="Interval timestamps label the 'start' or the 'end' of the interval.")] = "start",
    end_exclusive: Annotated[bool, typer.Option("--end-exclusive", help="Billing end dates are the next period's start, not the last day.")] = False,
    show: Annotated[int, typer.Option(help="Quarantined rows to print per file.")] = 5,
    workers: WorkersOption = 1,
    store: StoreOption = Path("data/store"),
) -> None:
    """Ingest utility export files into the store: every row is stored or quarantined with a reason.
    Needs the secret key (`energy keys`): without one it stops before reading anything."""
    from tqdm.auto import tqdm

    keys_cli.require_key()
    target = _store(store)
    try:
        options = Options(format=format, carrier=carrier, unit=unit, provider=provider, encoding=encoding,
                          station=station, timestamps=timestamps, end_inclusive=not end_exclusive)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    files: list = []
    for path in paths or []:
        if not path.is_dir():
            files.append(path)
            continue
        taken, skipped = data_files(path)
        files += taken
        if skipped:  # README.md, .DS_Store, archives: said, not ingested
            typer.echo(f"{path}: skipped {len(skipped)} file(s) that are not data files "
                       f"({', '.join(sorted(DATA_SUFFIXES))}): "
                       + ", ".join(str(p.relative_to(path)) for p in skipped[:10])
                       + (f", … ({len(skipped) - 10} more)" if len(skipped) > 10 else ""))
    if manifest is not None:
        from energy_lib.demo.generate import manifest_jobs

        files += manifest_jobs(manifest)
    if not files:
        raise typer.BadParameter("give export files, a directory, or --manifest")
    with tqdm(total=len(files), desc="ingest", unit="file", disable=len(files) < 3) as bar:
        reports = ingest_files(target, files, options, workers=workers, progress=lambda r: bar.update())
    for report in reports:
        _print_report(report, target, show)
    rejected = sum(not r.ok for r in reports)
    typer.echo(f"{len(reports)} file(s): {sum(r.rows_stored for r in reports):,} rows stored, "
               f"{sum(r.rows_quarantined for r in reports):,} quarantined, {rejected} rejected")
    if rejected:
        raise typer.Exit(1)


@app.command()
def demo(
    households: Annotated[int, typer.Option(help="Households with meter data (Gwangju has about 650,000).")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives byte-identical files.")] = 2026,
    out: Annotated[Path, typer.Option(help="Directory for the generated export files.")] = Path("data/raw/demo"),
    generate_only: Annotated[bool, typer.Option("--generate-only", help="Write the files but do not ingest them.")] = False,
    fresh: Annotated[bool, typer.Option("--fresh/--keep-store", help="Start from an empty store (default) or ingest into the existing one.")] = True,
    workers: WorkersOption = min(2, os.cpu_count() or 1),
    store: StoreOption = Path("data/store"),
) -> None:
    """Generate the synthetic demo city in the utilities' export formats and ingest it. Creates the
    secret key (`energy keys create`) when there is none: the only command that does."""
    from tqdm.auto import tqdm

    from energy_lib.demo.city import DemoSettings
    from energy_lib.demo.generate import generate, load

    settings = DemoSettings(households=households, seed=seed)
    target = _store(store)
    if fresh and not generate_only and target.foreign_files():
        raise typer.BadParameter(f"{target.root} is not empty and is not a store; refusing to clear it",
                                 param_hint="--store")
    if not generate_only:
        # the demo alone may create a key: its city is fictional, and it must run on a fresh machine
        created = keys.ensure_key()
        if created:
            typer.echo(f"created a secret key for the pseudonyms in {created} (mode 0600; `energy keys show`)")
        keys_cli.require_key()  # a key that exists but cannot be used stops here, before generating
    started = time.perf_counter()
    with tqdm(total=len(settings.months) + 4, desc="generate", unit="step") as bar:
        manifest = generate(settings, out, progress=lambda name: (bar.set_postfix_str(name), bar.update()))
    generated = time.perf_counter() - started
    typer.echo(f"generated {len(manifest.entries)} files in {out} ({generated:.1f} s)")
    if generate_only:
        return
    if fresh:
        target.clear()
    with tqdm(total=len(manifest.entries), desc="ingest", unit="file") as bar:
        reports = load(target, out / "manifest.json", workers=workers, progress=lambda report: bar.update())
    rows = sum(r.rows_in for r in reports)
    typer.echo(f"ingested {rows:,} rows: {sum(r.rows_stored for r in reports):,} stored, "
               f"{sum(r.rows_quarantined for r in reports):,} quarantined "
               f"({time.perf_counter() - started - generated:.1f} s); total {time.perf_counter() - started:.1f} s")
    rejected = [r for r in reports if not r.ok]
    for report in rejected:
        typer.echo(f"[REJECTED] {report.file}: {report.message}")
    if rejected:
        raise typer.Exit(1)


DerivedOption = Annotated[Path, typer.Option("--derived", envvar="ENERGY_DERIVED",
                                             help="Directory of the derived tables; also $ENERGY_DERIVED.")]


@app.command(name="compute")
def compute_command(
    reporting_start: Annotated[Optional[str], typer.Option(
        help="First month (YYYY-MM) of the annual analysis's reporting year; default: the last twelve "
             "billing months in the store.")] = None,
    chunk: Annotated[int, typer.Option(min=100, help="Meters computed at once.")] = 5_000,
    engine: Annotated[str, typer.Option(help="Where the per-meter work runs: 'local' (this machine) or 'dask' "
                                             "(a Dask cluster; docs/scale.md).")] = "local",
    scheduler: Annotated[Optional[str], typer.Option(help="Address of a Dask scheduler, e.g. tcp://10.0.0.5:8786; "
                                                          "without one, --engine dask starts a local cluster.")] = None,
    workers: Annotated[int, typer.Option("--workers", "-j", min=1, help="Processes computing buckets of meters at "
                                         "once: on this machine (local; 1 = this process) or in the local Dask "
                                         "cluster.")] = min(2, os.cpu_count() or 1),
    partition_rows: Annotated[int, typer.Option(min=10_000, help="About how many readings a bucket of meters "
                                                "holds: bounds each worker's memory.")] = 2_000_000,
    store: StoreOption = Path("data/store"),
    derived: DerivedOption = Path("data/derived"),
) -> None:
    """Compute baselines and savings of every meter (Carbon Point, CalTRACK billing and daily, TOWT),
    their sums by city, gu, ward and building type, the programme evaluations, and write the
    derived tables atomically. The same tables with --engine local or dask."""
    from energy_lib.compute import ComputeSettings, NothingToCompute, compute
    from energy_lib import engines

    try:
        engines.check(engine, scheduler)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--engine") from None

    start = None
    if reporting_start:
        if not re.fullmatch(r"(19|20)\d\d-(0[1-9]|1[0-2])", reporting_start):
            raise typer.BadParameter(f"{reporting_start!r} is not a month; write it as YYYY-MM, e.g. 2025-11",
                                     param_hint="--reporting-start")
        start = pd.Timestamp(f"{reporting_start}-01")
    try:
        report = compute(_store(store), Store(derived), ComputeSettings(reporting_start=start, chunk_meters=chunk,
                                                                     partition_rows=partition_rows),
                         engine=engine, scheduler=scheduler, workers=workers)
    except NothingToCompute as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    for line in report.lines():
        typer.echo(line)


@app.command()
def publish(
    site: Annotated[Path, typer.Option(help="Folder of the published site.")] = Path("reports/site"),
    workers: Annotated[int, typer.Option(min=1, help="Notebooks run at once (one kernel each).")] = min(2, os.cpu_count() or 1),
    force: Annotated[bool, typer.Option("--force", help="Rebuild every page and the open data, changed or not.")] = False,
    only: Annotated[Optional[str], typer.Option(help="Build only the pages whose path matches this glob, e.g. 'ko/city.html' or '*/dong/29140*'.")] = None,
    boundaries: Annotated[Optional[Path], typer.Option(help="Dong boundary GeoJSON for the maps (e.g. vuski/admdongkor); default: a schematic map from the dong points.")] = None,
    store: StoreOption = Path("data/store"),
    derived: DerivedOption = Path("data/derived"),
) -> None:
    """Publish the site: open data (privacy-checked), every report page in Korean and English
    (city, gu, dong, building type, programme evaluation) and the index. Pages whose inputs did not change are kept.
    Needs the secret key (`energy keys`), like ingest: without one it stops."""
    import fnmatch

    from tqdm.auto import tqdm

    from energy_lib import opendata
    from energy_lib.publish.protection import ProtectionError
    from energy_lib.publish.site import build, plan
    from energy_lib.wards import wards

    keys_cli.require_key()
    started = time.perf_counter()
    source = _store(store)
    if not source.rows("readings"):
        typer.echo(f"error: {source.root} holds no readings; run `energy demo` or `energy ingest` first", err=True)
        raise typer.Exit(1)
    if not Store(derived).rows("savings"):
        typer.echo(f"error: {derived} holds no savings; run `energy compute` first", err=True)
        raise typer.Exit(1)
    try:
        info = opendata.build(source, Store(derived), site / "data", force=force)
    except ProtectionError as error:
        typer.echo(f"error: the open data was not written: {error}", err=True)
        raise typer.Exit(1) from None
    data_seconds = time.perf_counter() - started
    typer.echo(f"open data: {len(info['files'])} files in {site / 'data'} ({data_seconds:.1f} s)")
    _echo_disclosure(site / "data")
    pages = plan(wards(), [t for t in opendata.BUILDING_TYPES if t != "unknown"],
                 programmes=opendata.read(site / "data", "programmes"))
    data_hash = info["data_hash"]
    if boundaries:
        from dataclasses import replace

        from energy_lib.maps import read_boundaries

        try:
            read_boundaries(boundaries)
        except (OSError, ValueError) as error:
            raise typer.BadParameter(str(error), param_hint="--boundaries") from None
        pages = [replace(p, parameters={**p.parameters, "boundaries": str(boundaries.resolve())})
                 if p.notebook in ("city.ipynb", "area.ipynb") else p for p in pages]
        data_hash = hashlib.sha256(data_hash.encode() + boundaries.read_bytes()).hexdigest()
    if only:
        pages = [page for page in pages if fnmatch.fnmatch(page.path, only)]
    with tqdm(total=len(pages), desc="publish", unit="page") as bar:
        summary_ = build(site, pages, data_hash, workers=workers, force=force,
                         progress=lambda result: (bar.set_postfix_str(result.path), bar.update()))
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary_.counts().items()))
    parts = ", ".join(f"{part} {seconds:.1f} s" for part, seconds in summary_.seconds["page_parts"].items())
    typer.echo(f"pages: {counts} in {summary_.seconds['total']:.1f} s (summed over pages: {parts}); "
               f"site: {site / 'index.html'}")
    for failure in summary_.failed:
        typer.echo(f"[FAILED] {failure.path}: {failure.error}", err=True)
    if summary_.failed:
        raise typer.Exit(1)


def _echo_disclosure(data: Path) -> None:
    """Print the audit and the availability of a release (``audit.csv``, ``availability.csv``)."""
    import pandas as pd

    audit = pd.read_csv(data / "audit.csv")
    typer.echo("disclosure audit (cells an attacker recovers within the protection level must be 0):")
    typer.echo(audit.to_string(index=False))
    availability = pd.read_csv(data / "availability.csv")
    shown = availability[availability["table"] == "consumption"]
    shown = shown.groupby(["area_level", "building_type", "period"], sort=False)[["cells", "passes", "published",
                                                                                 "complement"]].sum()
    shown["published %"] = (100 * shown["published"] / shown["cells"]).round(1)
    typer.echo("consumption published (all carriers):")
    typer.echo(shown.to_string())


@app.command()
def audit(
    site: Annotated[Path, typer.Argument(help="Folder of a built site (its data/ holds the open data).")] = Path("reports/site"),
    store: StoreOption = Path("data/store"),
    derived: DerivedOption = Path("data/derived"),
) -> None:
    """Attack a built site's open data as a reader holding every published file would (linear
    programming): for every withheld cell, how far the published numbers narrow it. Exits 1 when
    one is narrowed below the protection level (docs/privacy.md)."""
    from energy_lib import opendata

    data = site / "data"
    if not (data / "manifest.json").exists():
        typer.echo(f"error: {data} holds no open data; run `energy publish` first", err=True)
        raise typer.Exit(1)
    try:
        summary_ = opendata.audit_site(data, _store(store), Store(derived))
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(summary_.to_string(index=False))
    recoverable = int(summary_["recoverable"].sum())
    if recoverable:
        typer.echo(f"FAILED: {recoverable} withheld number(s) can be narrowed below the protection level", err=True)
        raise typer.Exit(1)
    typer.echo("passed: no withheld number can be narrowed below the protection level")


@app.command(name="household-index")
def household_index(
    codes: Annotated[Optional[Path], typer.Option(help="CSV of the issued codes: account (electricity customer number) and code_hash (energy_lib.household.code_hashes, scrypt); default: the demo city's codes.")] = None,
    demo_households: Annotated[int, typer.Option(help="Households of the demo whose codes to issue (when --codes is not given).")] = 10_000,
    out: Annotated[Path, typer.Option(help="The index file the \"my savings\" app reads.")] = Path("data/apps/household_index.parquet"),
    store: StoreOption = Path("data/store"),
    derived: DerivedOption = Path("data/derived"),
) -> None:
    """Precompute every household's "my savings" page (use, Carbon Point outlook, savings, similar
    neighbours) behind its code hash. For the demo, also write the codes it issued next to the
    demo's exports (data/raw/demo/household_codes.csv), so that a tester can look households up."""
    from energy_lib import household
    from energy_lib.demo.city import DemoSettings

    keys_cli.require_key()
    if codes is None:
        issued = household.demo_codes(DemoSettings(households=demo_households))
        listing = Path("data/raw/demo/household_codes.csv")
        listing.parent.mkdir(parents=True, exist_ok=True)
        issued.to_csv(listing, index=False, encoding="utf-8-sig")
        started = time.perf_counter()
        table = issued.assign(code_hash=household.code_hashes(issued["code"]))[["account", "code_hash"]]
        typer.echo(f"demo codes: {len(issued):,} in {listing} (hashed in {time.perf_counter() - started:.1f} s)")
    else:
        table = pd.read_csv(codes, dtype=str)
        missing = {"account", "code_hash"} - set(table.columns)
        if missing:
            raise typer.BadParameter(f"{codes} needs the columns account and code_hash; missing: {', '.join(sorted(missing))}",
                                     param_hint="--codes")
        if not table["code_hash"].dropna().str.startswith("scrypt$").all():
            raise typer.BadParameter(f"{codes}: code_hash must be energy_lib.household.code_hashes of the codes "
                                     "(scrypt$…); hash the issued codes again with it", param_hint="--codes")
    index = household.build_index(_store(store), Store(derived), table)
    path = household.write_index(index, out)
    typer.echo(f"household index: {len(index):,} households in {path}")


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
) -> None:
    """Serve the citizen apps (notebooks/apps: ward explorer, my savings, bulletin board, live
    monitor) with Voila: sources stripped, tracebacks hidden, kernels bounded (a cap with a
    "busy, try again" page beyond it, preheated kernels within it, a closed or vanished page's
    kernel ended; config/serving.toml), the Korean font (a subset, energy_lib/publish/fonts.py)
    served with the apps, nothing loaded from a CDN (the workbook-app Voila template) and
    responses compressed (energy_lib/publish/serving.py). The board's database is
    $ENERGY_BOARD_URL (default data/board.sqlite3); the household index $ENERGY_HOUSEHOLD_INDEX
    (default data/apps/household_index.parquet, from `energy household-index`). Client ids (rate
    limits, lockouts) and the cookies behind them are keyed with the secret key (energy keys)."""
    from energy_lib.publish import fonts
    from energy_lib.publish.serving import serving_settings
    from energy_lib.publish.site import REPORTS_DIR, TEMPLATES

    keys_cli.require_key()  # "my savings" turns customer numbers into pseudonyms with it
    try:
        chosen = serving_settings(max_kernels=max_kernels, max_warming=max_warming, pool_size=pool_size, orphan_timeout_s=orphan_timeout,
                                  cull_interval_s=cull_interval)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    apps = REPORTS_DIR.parent / "apps"
    fonts.write_app_fonts(apps / "assets", REPORTS_DIR.parent)  # served by Voila from apps/assets/
    # Voila finds its templates on the Jupyter data path: ours is Voila's lab template without CDN links
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(TEMPLATES / "jupyter"), os.environ.get("JUPYTER_PATH")]))
    os.environ["ENERGY_SITE"] = str(site.resolve())
    # the board's default SQLite file is relative; the apps' kernels run in notebooks/apps
    os.environ.setdefault("ENERGY_BOARD_URL", f"sqlite:///{(Path('data') / 'board.sqlite3').resolve()}")
    os.environ.setdefault("ENERGY_HOUSEHOLD_INDEX", str(Path("data/apps/household_index.parquet").resolve()))
    # Voila with compression, the kernel cap and culling (energy_lib/publish/serving.py)
    command = [sys.executable, "-m", "energy_lib.publish.serving", str(apps), f"--port={port}", "--Voila.ip=127.0.0.1",
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
    from energy_lib.live import LiveMonitor, LiveSettings
    from energy_lib.watch import Watcher, WatchSettings

    if not directory.is_dir():
        raise typer.BadParameter(f"{directory} is not a folder; create it, or give the folder the files land in",
                                 param_hint="DIRECTORY")
    keys_cli.require_key()
    try:
        timing = WatchSettings(poll=poll, settle=settle, settle_max=settle_max)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    target = _store(store)
    watcher = Watcher(directory, target, LiveMonitor(target, live, LiveSettings(confidence=confidence)), timing,
                      echo=typer.echo, rejected=rejected)
    if not once:
        typer.echo(f"watching {directory} (every {poll:g} s) into {target.root}; live status in {live}. Ctrl-C stops.")
    try:
        watcher.run(once=once)
    except KeyboardInterrupt:
        typer.echo(f"stopped; {len(watcher.pending)} file(s) were still being written and were not read")


@app.command()
def feed(
    directory: Annotated[Path, typer.Argument(help="Folder to write the interval files into (the one `energy watch` watches).")],
    every: Annotated[float, typer.Option(min=0.0, help="Seconds between steps; each step writes the next hour of every site.")] = 3.0,
    day: Annotated[Optional[str], typer.Option(help="Simulated day (YYYY-MM-DD); default: the day after the newest interval reading in --store.")] = None,
    steps: Annotated[Optional[int], typer.Option(min=1, max=24, help="Hours to write (default: to the end of the day).")] = None,
    start_hour: Annotated[int, typer.Option(min=0, max=23, help="First hour to write.")] = 0,
    anomaly: Annotated[Optional[list[str]], typer.Option(help="Inject unusual use: SITE@HOUR[xFACTOR], e.g. AMI-005@14 (doubled) or AMI-003@9x3; repeatable.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the demo city (as `energy demo --seed`).")] = 2026,
    store: StoreOption = Path("data/store"),
) -> None:
    """Simulate the utilities' interval feed for the demo city's seven AMI sites: one file per site
    and hour, written atomically every --every seconds, for `energy watch` to pick up."""
    from energy_lib.demo.feed import Anomaly, FeedSettings, default_day, run_feed

    try:
        injected = tuple(Anomaly.parse(text) for text in anomaly or [])
        when = pd.Timestamp(day) if day else default_day(_store(store))
        settings = FeedSettings(when, seed=seed, start_hour=start_hour, steps=steps, every=every, anomalies=injected)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    today = pd.Timestamp.now(tz="Asia/Seoul").tz_localize(None).normalize()
    if settings.day > today:
        typer.echo(f"note: {settings.day:%Y-%m-%d} is after today; ingest quarantines future readings (future_period)")
    typer.echo(f"feeding {settings.day:%Y-%m-%d} from {settings.start_hour:02d}:00, one hour every {every:g} s, into {directory}")
    try:
        written = run_feed(directory, settings, echo=typer.echo)
    except KeyboardInterrupt:
        typer.echo("stopped")
        return
    typer.echo(f"{len(written)} files written")


@app.command()
def summary(store: StoreOption = Path("data/store")) -> None:
    """Summarise the store: tables, readings by carrier and year, quarantine reasons, coverage."""
    typer.echo(inventory.render(inventory.summarise(_store(store))))


@app.command()
def quarantine(
    file: Annotated[Optional[str], typer.Option(help="Only rows of this source file.")] = None,
    reason: Annotated[Optional[str], typer.Option(help="Only this reason (e.g. negative_value).")] = None,
    limit: Annotated[int, typer.Option(help="Rows to print (0: all).")] = 20,
    csv: Annotated[Optional[Path], typer.Option(help="Write the selected rows to this CSV (UTF-8 with BOM) instead.")] = None,
    store: StoreOption = Path("data/store"),
) -> None:
    """List quarantined rows with their file, row, column, reason and what to do."""
    rows = _store(store).read("quarantine")
    if file:
        rows = rows[rows["source_file"] == file]
    if reason:
        rows = rows[rows["reason"] == reason]
    if csv:
        rows.to_csv(csv, index=False, encoding="utf-8-sig")
        typer.echo(f"{len(rows):,} rows written to {csv}")
        return
    shown = rows if limit == 0 else rows.head(limit)
    for row in shown.itertuples():
        column = f", column '{row.column}'" if pd.notna(row.column) else ""
        typer.echo(f"{row.source_file}, row {row.source_row}{column}: {row.reason}: {row.message}")
    typer.echo(f"{len(shown):,} of {len(rows):,} quarantined rows shown")


@app.command()
def formats(name: Annotated[Optional[str], typer.Argument(help="Show one format's fields.")] = None) -> None:
    """List the import formats and the columns (with their accepted spellings) each one reads."""
    if name and name not in FORMATS:
        typer.echo(f"error: there is no import format {excerpt(name, 40)!r}. Formats: {', '.join(FORMATS)} "
                   "(`energy formats NAME` shows one's columns).", err=True)
        raise typer.Exit(2)
    chosen = [FORMATS[name]] if name else FORMATS.values()
    for fmt in chosen:
        typer.echo(f"{fmt.name}: {fmt.title} → {fmt.target}")
        if name:
            typer.echo(f"  {fmt.description}")
            for field in fmt.fields:
                need = "required" if field.required else "optional"
                typer.echo(f"  - {field.name} ({need}): {field.help}. Headers: {', '.join((field.name, *field.aliases))}")
            for group in fmt.one_of:
                typer.echo("  one of: " + " | ".join(" + ".join(a) for a in group))


@app.command(name="wards")
def wards_command(
    code: Annotated[Optional[str], typer.Argument(help="A code of any vintage (10-digit dong, 5-digit gu) to look up.")] = None,
) -> None:
    """List the 96 wards, or say which current ward a (possibly old) code maps to."""
    table = wards.wards()
    if code is None:
        typer.echo(_table(table[["ward_code", "gu_name_ko", "dong_name_ko", "gu_name_en", "dong_name_en"]]))
        return
    crosswalk = wards.ward_codes()
    hit = crosswalk[crosswalk["code"] == wards.normalise_codes(pd.Series([code])).iloc[0]]
    if hit.empty:
        typer.echo(f"{code}: not a Gwangju code of any known vintage")
        raise typer.Exit(1)
    row = hit.iloc[0]
    if row["level"] == "gu":
        typer.echo(f"{code}: gu {row['gu_code']} ({row['event']}; confirmed: {row['confirmed']})")
        return
    ward = table.set_index("ward_code").loc[row["ward_code"]]
    typer.echo(f"{code} → {row['ward_code']} {ward['gu_name_ko']} {ward['dong_name_ko']} "
               f"({ward['gu_name_en']}, {ward['dong_name_en']}); {row['event']}, confirmed: {row['confirmed']}")


@app.command(name="reconcile")
def reconcile_command(
    by: Annotated[str, typer.Option(help="Group by 'gu' (gu × month) or 'year' (gu × year).")] = "year",
    csv: Annotated[Optional[Path], typer.Option(help="Write the full table to this CSV (UTF-8 with BOM).")] = None,
    store: StoreOption = Path("data/store"),
) -> None:
    """Compare site-level electricity with KEPCO's published totals per gu and contract type."""
    table = reconcile.electricity_against_kepco(_store(store))
    if csv:
        table.to_csv(csv, index=False, encoding="utf-8-sig")
        typer.echo(f"{len(table):,} rows written to {csv}")
        return
    typer.echo(_table(reconcile.by_year(table) if by == "year" else table))


if __name__ == "__main__":  # `python -m energy_lib.cli`, as the benchmarks run it
    app()
