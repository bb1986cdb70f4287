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
    """Summarise the store: tables, readings by carrier and year, quarantine reasons, coverage."""
    typer.echo(inventory.render(inventory.summarise(open_store(store))))


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
    by: Annotated[str, typer.Option(help="Group by 'gu' (gu × month) or 'year' (gu × year).")] = "year",
    csv: Annotated[Optional[Path], typer.Option(help="Write the full table to this CSV (UTF-8 with BOM).")] = None,
    store: StoreOption = Path("data/store"),
) -> None:
    """Compare site-level electricity with KEPCO's published totals per gu and contract type."""
    table = reconcile.electricity_against_kepco(open_store(store))
    if csv:
        table.to_csv(csv, index=False, encoding="utf-8-sig")
        typer.echo(f"{len(table):,} rows written to {csv}")
        return
    typer.echo(table_text(reconcile.by_year(table) if by == "year" else table))
