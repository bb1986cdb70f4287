"""The synthetic demo city: households, meters and weather written in the utilities' export
formats (:mod:`energy_lib.demo.generate`), then ingested like real data; its injected truth
(:mod:`energy_lib.demo.truth`) checks the estimates."""
