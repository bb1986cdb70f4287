"""`energy demo`, `energy feed`: the synthetic demo city and its live feed."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer

from energy_lib.cli.app import StoreOption, WorkersOption, app, open_store
from energy_lib.cli.keys import require_key
from energy_lib.core import keys


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
    target = open_store(store)
    if fresh and not generate_only and target.foreign_files():
        raise typer.BadParameter(f"{target.root} is not empty and is not a store; refusing to clear it",
                                 param_hint="--store")
    if not generate_only:
        # the demo alone may create a key: its city is fictional, and it must run on a fresh machine
        created = keys.ensure_key()
        if created:
            typer.echo(f"created a secret key for the pseudonyms in {created} (mode 0600; `energy keys show`)")
        require_key()  # a key that exists but cannot be used stops here, before generating
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
        when = pd.Timestamp(day) if day else default_day(open_store(store))
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
