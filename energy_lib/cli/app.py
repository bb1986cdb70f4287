"""The ``energy`` command's application and the options its command groups share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from energy_lib.store import Store

__all__ = ["app", "StoreOption", "DerivedOption", "WorkersOption", "NotebooksOption", "open_store", "table_text"]

app = typer.Typer(
    help="Gwangju energy information workbook: collect the utilities' exports into one store, build the "
         "demo city, compute baselines and savings, publish the reports and serve the citizen apps.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

StoreOption = Annotated[Path, typer.Option("--store", envvar="ENERGY_STORE",
                                           help="Store directory (Parquet tables); also $ENERGY_STORE.")]
DerivedOption = Annotated[Path, typer.Option("--derived", envvar="ENERGY_DERIVED",
                                             help="Directory of the derived tables; also $ENERGY_DERIVED.")]
WorkersOption = Annotated[int, typer.Option(
    "--workers", "-j", min=1, help="Processes that read and check files at once (commits stay in order).")]
NotebooksOption = Annotated[Path, typer.Option(
    "--notebooks", envvar="ENERGY_NOTEBOOKS",
    help="Folder of the notebooks: reports/ (the site's pages) and apps/ (the Voila apps); also $ENERGY_NOTEBOOKS.")]


def open_store(path: Path) -> Store:
    """The store at ``path`` (created when missing)."""
    return Store(path)


def table_text(frame: pd.DataFrame) -> str:
    """A table as plain text for the terminal; ``(none)`` when empty."""
    return frame.to_string(index=False) if len(frame) else "(none)"
