"""The ``energy`` command: set up the store, ingest utility exports, build the demo city, compute,
publish, serve the apps. One module per command group; :mod:`energy_lib.cli.app` holds the
application and the options they share.

Run ``energy --help`` for the commands and ``energy COMMAND --help`` for each one's options.
"""

from energy_lib.cli import board, compute, demo, ingest, keys, publish, serve, store  # noqa: F401 - each registers its commands
from energy_lib.cli.app import app

app.add_typer(board.app, name="board")
app.add_typer(keys.app, name="keys")

__all__ = ["app"]
