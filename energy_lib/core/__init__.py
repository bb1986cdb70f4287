"""The core layer (layer 1 of the design's layout): what every other layer may use.

Today it holds :mod:`energy_lib.core.keys`; issue 16 moves the other core modules (tables, units,
wards, weather, configuration, …) here.
"""

from energy_lib.core import keys

__all__ = ["keys"]
