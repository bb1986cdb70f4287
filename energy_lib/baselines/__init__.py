"""Baselines: what consumption would have been. One module per method, one result type
(:mod:`energy_lib.baselines.result`)."""
