"""`energy ingest`, `energy quarantine`, `energy formats`: utility exports into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer

from energy_lib.cli.app import StoreOption, WorkersOption, app, open_store
from energy_lib.cli.keys import require_key
from energy_lib.ingest.formats import Options
from energy_lib.ingest.pipeline import DATA_SUFFIXES, IngestOutcome, IngestReport, data_files, ingest_files
from energy_lib.ingest.problems import excerpt
from energy_lib.ingest.registry import FORMATS
from energy_lib.store import Store


def _print_report(report: IngestReport, target: Store, show: int) -> None:
    mark = {IngestOutcome.STORED: "ok", IngestOutcome.ALREADY_INGESTED: "skip",
            IngestOutcome.REJECTED: "REJECTED"}[report.status]
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

    require_key()
    target = open_store(store)
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
def quarantine(
    file: Annotated[Optional[str], typer.Option(help="Only rows of this source file.")] = None,
    reason: Annotated[Optional[str], typer.Option(help="Only this reason (e.g. negative_value).")] = None,
    limit: Annotated[int, typer.Option(help="Rows to print (0: all).")] = 20,
    csv: Annotated[Optional[Path], typer.Option(help="Write the selected rows to this CSV (UTF-8 with BOM) instead.")] = None,
    store: StoreOption = Path("data/store"),
) -> None:
    """List quarantined rows with their file, row, column, reason and what to do."""
    rows = open_store(store).read("quarantine")
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
