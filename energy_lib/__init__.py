"""Gwangju energy information workbook: the shared library.

The library computes; notebooks narrate. One package per layer, each importing only from the
layers below it (docs/architecture.md; an import-linter contract in pyproject.toml keeps it so):
``cli`` (the ``energy`` command) · ``apps`` (Voila app back-ends) and ``demo`` (the synthetic
city) · ``publish`` (roll-ups, disclosure control, open data, charts, the site) · ``compute``
and ``realtime`` · ``evaluation`` · ``savings`` · ``baselines`` · ``ingest`` · ``store`` ·
``core`` (units, wards, keys, strings, configuration).
"""

__version__ = "0.1.0"
