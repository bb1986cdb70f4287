"""``energy keys``: create, show and rotate the secret key of the pseudonyms (energy_lib/core/keys.py).

The key lives outside the repository, the store and the site: ``$ENERGY_SECRET_KEY``, or the key
file ``$ENERGY_KEY_FILE`` (default ``~/.config/energy-workbook/secret.key``). Errors exit with code 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from energy_lib.core import keys

app = typer.Typer(
    help="The secret key behind the pseudonyms and personal codes: create it, show which one is in "
         "force, rotate it (docs/privacy.md, 'Keys').",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def require_key() -> tuple[bytes, ...]:
    """The key ring, or stop with the key's error and exit code 1 (ingest, publish and the apps fail closed)."""
    try:
        return keys.ring()
    except (keys.MissingKeyError, keys.InvalidKeyError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@app.command()
def create() -> None:
    """Write a new random key (32 bytes) to the key file, readable by you only (mode 0600). Never
    replaces an existing key: the store's pseudonyms depend on it."""
    try:
        path = keys.create_key()
    except FileExistsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"new key in {path} (id {keys.key_id(keys.ring()[-1])}); back it up somewhere safe, outside the "
               "repository, the store and the site")


@app.command()
def show() -> None:
    """Say where the key comes from and the ids of its keys (never the keys)."""
    ring = require_key()
    import os

    where = "ENERGY_SECRET_KEY" if os.environ.get("ENERGY_SECRET_KEY") else str(keys.key_file())
    typer.echo(f"{where}: {len(ring)} key(s), oldest first: {', '.join(keys.key_id(k) for k in ring)}")


@app.command()
def rotate(
    store: Annotated[Path, typer.Option("--store", envvar="ENERGY_STORE", help="Store directory; also $ENERGY_STORE.")] = Path("data/store"),
    derived: Annotated[Path, typer.Option("--derived", envvar="ENERGY_DERIVED", help="Derived tables; also $ENERGY_DERIVED.")] = Path("data/derived"),
    index: Annotated[Path, typer.Option(help="The \"my savings\" index to re-key too (skipped when missing).")] = Path("data/apps/household_index.parquet"),
) -> None:
    """Add a new key and move every pseudonym of the store, the derived tables and the "my savings"
    index to it, from the stored pseudonyms alone (new id = HMAC(new key, old id)). Stop ingest,
    watch and the apps first; run again to finish an interrupted rotation."""
    from energy_lib.store import Store
    from energy_lib.store.rekey import rotate as rotate_keys

    require_key()
    try:
        report = rotate_keys([Store(store), Store(derived)], [index])
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    for line in report.lines():
        typer.echo(line)
    typer.echo("restart `energy watch` and the apps so that they read the new key; personal codes stay valid")
