"""`energy init`, `energy summary`, `energy wards`, `energy reconcile`: the store and its reference tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer

from energy_lib.cli.app import StoreOption, app, open_store, table_text
from energy_lib.core import wards
from energy_lib.ingest.pipeline import ensure_reference
from energy_lib.publish import reconcile
from energy_lib.store import inventory


@app.command()
def init(
    store: StoreOption = Path("data/store"),
    rebuild_reference: Annotated[bool, typer.Option(
        "--rebuild-reference", help="Rewrite the ward table, code crosswalk and legal-dong links from "
                                    "energy_lib/reference and config/wards.toml (after editing them).")] = False,
) -> None:
    """Create the store and load the reference tables (wards, code crosswalk, legal dongs)."""
    target = open_store(store)
    ensure_reference(target, rebuild=rebuild_reference)
    typer.echo(f"store {target.root}: {target.rows('wards')} wards, {target.rows('ward_codes')} known codes, "
               f"{target.rows('legal_dongs')} legal-dong links")

@app.command()
def summary(store: StoreOption = Path("data/store")) -> None:
    """Summarise the store: tables, readings by carrier and year, quarantine reasons, and the coverage
    of the utilities' published totals (site-level totals against KEPCO's, per gu, contract type and year)."""
    target = open_store(store)
    typer.echo(inventory.render(inventory.summarise(target)))
    typer.echo("\n== coverage: the store's site-level totals against the utility's published totals ==")
    typer.echo(_coverage_text(reconcile.coverage(target)))


def _coverage_text(table: pd.DataFrame) -> str:
    """The coverage table for a terminal: whole kWh, coverage in %, the tolerance named."""
    if table.empty:
        return "(none: no published utility totals stored; ingest KEPCO's API export or public file)"
    shown = table.assign(store_kwh=table["store_kwh"].round().astype("Int64"),
                         utility_kwh=table["utility_kwh"].round().astype("Int64"),
                         coverage=(100 * table["coverage"]).map(lambda v: "" if v != v else f"{v:.2f}%"))
    flagged = int(shown["status"].isin([reconcile.Agreement.PARTIAL, reconcile.Agreement.EXCEEDS]).sum())
    return (shown.to_string(index=False) + f"\n(status of each gu's total, within ±{reconcile.tolerance():.0%} "
            f"(config/reconcile.toml): {flagged} flagged; partial = the store covers part of the customers, "
            "exceeds = the store holds more than the utility billed: check for duplicate files or units)")


@app.command(name="wards")
def wards_command(
    code: Annotated[Optional[str], typer.Argument(help="A code of any vintage (10-digit dong, 5-digit gu) to look up.")] = None,
) -> None:
    """List the 96 wards, or say which current ward a (possibly old) code maps to."""
    table = wards.wards()
    if code is None:
        typer.echo(table_text(table[["ward_code", "gu_name_ko", "dong_name_ko", "gu_name_en", "dong_name_en"]]))
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
    by: Annotated[str, typer.Option(help="'year' (gu × contract type × year), 'gu' or 'month' (gu × contract type × "
                                         "month), or 'coverage' (the coverage table with each gu's total and "
                                         "its agreement).")] = "year",
    csv: Annotated[Optional[Path], typer.Option(help="Write the full table to this CSV (UTF-8 with BOM).")] = None,
    store: StoreOption = Path("data/store"),
) -> None:
    """Compare site-level electricity with KEPCO's published totals per gu and contract type (from
    KEPCO's API export or its public file: both are stored alike)."""
    if by not in ("year", "gu", "month", "coverage"):
        raise typer.BadParameter(f"--by must be year, gu, month or coverage, not {by!r}")
    target = open_store(store)
    if by == "coverage":
        table = reconcile.coverage(target)
        if csv:
            table.to_csv(csv, index=False, encoding="utf-8-sig")
            typer.echo(f"{len(table):,} rows written to {csv}")
            return
        typer.echo(_coverage_text(table))
        return
    table = reconcile.electricity_against_kepco(target)
    if csv:
        table.to_csv(csv, index=False, encoding="utf-8-sig")
        typer.echo(f"{len(table):,} rows written to {csv}")
        return
    typer.echo(table_text(reconcile.by_year(table) if by == "year" else table))
