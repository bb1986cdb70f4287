"""`energy publish`, `energy audit`, `energy household-index`: the site, its disclosure audit and the "my savings" index."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer

from energy_lib.cli.app import DerivedOption, NotebooksOption, StoreOption, app, open_store
from energy_lib.cli.keys import require_key
from energy_lib.store import Store


@app.command()
def publish(
    site: Annotated[Path, typer.Option("--site", "--out", help="Folder of the published site.")] = Path("reports/site"),
    workers: Annotated[int, typer.Option(min=1, help="Notebooks run at once (one kernel each).")] = min(2, os.cpu_count() or 1),
    force: Annotated[bool, typer.Option("--force", help="Rebuild every page and the open data, changed or not.")] = False,
    only: Annotated[Optional[str], typer.Option(help="Build only the pages whose path matches this glob, e.g. 'ko/city.html' or '*/dong/29140*'.")] = None,
    boundaries: Annotated[Optional[Path], typer.Option(help="Dong boundary GeoJSON for the maps (e.g. vuski/admdongkor); default: a schematic map from the dong points.")] = None,
    store: StoreOption = Path("data/store"),
    derived: DerivedOption = Path("data/derived"),
    notebooks: NotebooksOption = Path("notebooks"),
) -> None:
    """Publish the site: open data (privacy-checked), every report page in Korean and English
    (city, gu, dong, building type, programme evaluation) and the index. Pages whose inputs did not change are kept.
    Needs the secret key (`energy keys`), like ingest: without one it stops."""
    import fnmatch

    from tqdm.auto import tqdm

    from energy_lib.core.wards import wards
    from energy_lib.publish import opendata
    from energy_lib.publish.protection import ProtectionError
    from energy_lib.publish.site import build, plan

    require_key()
    started = time.perf_counter()
    source = open_store(store)
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

        from energy_lib.publish.maps import read_boundaries

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
        summary_ = build(site, pages, data_hash, notebooks=notebooks / "reports", workers=workers, force=force,
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
    from energy_lib.publish import opendata

    data = site / "data"
    if not (data / "manifest.json").exists():
        typer.echo(f"error: {data} holds no open data; run `energy publish` first", err=True)
        raise typer.Exit(1)
    try:
        summary_ = opendata.audit_site(data, open_store(store), Store(derived))
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
    codes: Annotated[Optional[Path], typer.Option(help="CSV of the issued codes: account (electricity customer number) and code_hash (energy_lib.core.personal_codes.code_hashes, scrypt); default: the demo city's codes.")] = None,
    demo_households: Annotated[int, typer.Option(help="Households of the demo whose codes to issue (when --codes is not given).")] = 10_000,
    out: Annotated[Path, typer.Option(help="The index file the \"my savings\" app reads.")] = Path("data/apps/household_index.parquet"),
    store: StoreOption = Path("data/store"),
    derived: DerivedOption = Path("data/derived"),
) -> None:
    """Precompute every household's "my savings" page (use, Carbon Point outlook, savings, similar
    neighbours) behind its code hash. For the demo, also write the codes it issued next to the
    demo's exports (data/raw/demo/household_codes.csv), so that a tester can look households up."""
    from energy_lib.apps import household
    from energy_lib.core import personal_codes
    from energy_lib.demo.city import DemoSettings
    from energy_lib.demo.personal_codes import demo_codes

    require_key()
    if codes is None:
        issued = demo_codes(DemoSettings(households=demo_households))
        listing = Path("data/raw/demo/household_codes.csv")
        listing.parent.mkdir(parents=True, exist_ok=True)
        issued.to_csv(listing, index=False, encoding="utf-8-sig")
        started = time.perf_counter()
        table = issued.assign(code_hash=personal_codes.code_hashes(issued["code"]))[["account", "code_hash"]]
        typer.echo(f"demo codes: {len(issued):,} in {listing} (hashed in {time.perf_counter() - started:.1f} s)")
    else:
        table = pd.read_csv(codes, dtype=str)
        missing = {"account", "code_hash"} - set(table.columns)
        if missing:
            raise typer.BadParameter(f"{codes} needs the columns account and code_hash; missing: {', '.join(sorted(missing))}",
                                     param_hint="--codes")
        if not table["code_hash"].dropna().str.startswith("scrypt$").all():
            raise typer.BadParameter(f"{codes}: code_hash must be energy_lib.core.personal_codes.code_hashes of the codes "
                                     "(scrypt$…); hash the issued codes again with it", param_hint="--codes")
    index = household.build_index(open_store(store), Store(derived), table)
    path = household.write_index(index, out)
    typer.echo(f"household index: {len(index):,} households in {path}")
