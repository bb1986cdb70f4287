"""`energy compute`: baselines, savings and evaluations from the store into the derived tables."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer

from energy_lib.cli.app import DerivedOption, StoreOption, app, open_store
from energy_lib.store import Store


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
    from energy_lib.compute import ComputeSettings, compute, engines
    from energy_lib.store import NothingToCompute

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
        report = compute(open_store(store), Store(derived), ComputeSettings(reporting_start=start, chunk_meters=chunk,
                                                                     partition_rows=partition_rows),
                         engine=engine, scheduler=scheduler, workers=workers)
    except NothingToCompute as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    for line in report.lines():
        typer.echo(line)
