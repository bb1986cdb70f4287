"""The core layer (layer 1 of the design's layout): what every other layer may use.

Today it holds :mod:`energy_lib.core.keys` (the secret key and the keys derived from it) and
:mod:`energy_lib.core.scratch` (scratch folders a killed process does not leave for good); issue 16
moves the other core modules (tables, units, wards, weather, configuration, …) here.
"""
