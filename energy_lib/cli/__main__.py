"""``python -m energy_lib.cli``, as the benchmarks and the apps' tests run it."""

from energy_lib.cli import app

app()
