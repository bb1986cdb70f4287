"""Gwangju energy information workbook: the shared library.

The library computes; notebooks narrate. Modules: ``units`` (conversion factors), ``tables`` (the
data contract), ``store`` (the Parquet store), ``wards`` (wards and code crosswalks), ``ingest``
(the utilities' export formats), ``demo`` (the synthetic demo city), ``cli`` (the `energy`
command).
"""

__version__ = "0.1.0"
