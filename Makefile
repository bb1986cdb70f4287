# Two commands do all the set-up on a fresh machine with Python 3.11+ and pip:
#   make reports   build the demo city, load it into the store, compute and publish to reports/site/
#   make test      run the test suite (it installs Chromium for the browser tests where it can)
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first interpreter on PATH that is Python 3.11 or newer.
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ENERGY := $(BIN)/energy
# Demo scale for `make reports`; `make reports HOUSEHOLDS=650000` builds the full city.
HOUSEHOLDS ?=
DEMO_OPTS := $(if $(HOUSEHOLDS),--households $(HOUSEHOLDS),)
# Each stage runs only when its input changed: the demo when missing (or another scale is asked
# for), compute when the store changed, and `energy publish` rebuilds only changed pages.
DEMO_STAMP := data/.demo-$(or $(HOUSEHOLDS),default)
STORE_MANIFEST := data/store/_manifest.json
DERIVED_MANIFEST := data/derived/_manifest.json
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k store"`.
PYTEST_ARGS ?=

# Reference implementations for the comparisons (each in its own environment: eemeter 2.10 needs
# old numpy and pandas). Used by `make bench` and `make reference-eemeter`.
EEMETER2 := .venv-eemeter/.installed
EEMETER4 := .venv-eemeter4/.installed

.PHONY: help venv lock data compute reports serve live test bench mutation clean reference-venvs reference-eemeter

help:
	@echo "make reports   create .venv, build and ingest the demo city, compute, publish reports/site/"
	@echo "make test      create .venv and run the tests"
	@echo "make serve     serve the citizen apps with Voila on http://127.0.0.1:8866/ (after make reports)"
	@echo "make live      watch real-time monitoring work: the demo feed, energy watch and the live app"
	@echo "make bench     run the benchmarks, against OpenEEmeter where an issue names it (docs/benchmarks.md)"
	@echo "make mutation  mutation testing of disclosure control and Carbon Point with their unit tests (mutmut)"
	@echo "make lock      renew requirements.lock (pinned versions with hashes) after a dependency change"
	@echo "make reference-eemeter   rebuild the OpenEEmeter 2.10 fixtures in tests/reference/"
	@echo "make clean     remove the generated store, raw demo files and reports"

# The exact versions of requirements.lock, each checked against its SHA-256, then the project itself.
$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed on PATH (python3)."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

# Mutation testing (mutmut, [tool.mutmut] in pyproject.toml): protection.py (disclosure control) and
# carbon_point.py mutated, each mutant run against their own unit tests only; about 25 minutes on two
# cores (docs/benchmarks.md). `.venv/bin/mutmut results` lists the survivors, `mutmut show NAME` one.
MUTATION_TIMEOUT ?= 3600
mutation: venv
	rm -rf mutants
	timeout $(MUTATION_TIMEOUT) $(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results --all true | awk '{print $$NF}' | sort | uniq -c

# Renew requirements.lock after a change of pyproject.toml's dependencies (keeps the versions it
# has where they still fit; `make lock LOCK_OPTS=--upgrade` takes the newest). uv resolves for
# every platform and Python >= 3.11 at once; pip installs from the result.
LOCK_OPTS ?=
lock: venv
	$(BIN)/python -m pip install --quiet "uv>=0.5"
	$(BIN)/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 --generate-hashes \
		$(LOCK_OPTS) -o requirements.lock

# A change of the demo generator rebuilds the demo, and a change of the compute code recomputes
# (the live feed is not part of the demo's data). The pseudonyms' code is the demo's too: a store
# made by another version has other ids than the files ingested next.
DEMO_CODE := $(filter-out energy_lib/demo/feed.py,$(wildcard energy_lib/demo/*.py)) energy_lib/config/demo.toml \
	energy_lib/core/reference/kepco_electricity_2024.csv energy_lib/core/identity.py energy_lib/core/keys.py
COMPUTE_CODE := energy_lib/compute/__init__.py energy_lib/compute/partitions.py energy_lib/evaluation/__init__.py energy_lib/savings/__init__.py $(wildcard energy_lib/baselines/*.py) \
	energy_lib/config/evaluation.toml energy_lib/config/savings.toml energy_lib/config/units.toml

$(DEMO_STAMP): $(DEMO_CODE) | venv
	rm -f data/.demo-*
	$(ENERGY) demo $(DEMO_OPTS)
	$(ENERGY) summary
	@touch $@

data: $(DEMO_STAMP)

$(STORE_MANIFEST): $(DEMO_STAMP)

$(DERIVED_MANIFEST): $(STORE_MANIFEST) $(DEMO_STAMP) $(COMPUTE_CODE)
	$(ENERGY) compute

# "my savings" reads every household's page from this index: rebuilt when compute ran or the
# index's own code changed (its columns are what the app shows)
HOUSEHOLD_INDEX := data/apps/household_index.parquet
$(HOUSEHOLD_INDEX): $(DERIVED_MANIFEST) energy_lib/apps/household.py energy_lib/apps/peers.py
	$(ENERGY) household-index $(if $(HOUSEHOLDS),--demo-households $(HOUSEHOLDS),)

compute: $(DERIVED_MANIFEST) $(HOUSEHOLD_INDEX)

reports: compute
	$(ENERGY) publish
	@echo "open reports/site/index.html (or serve it: python3 -m http.server -d reports/site)"

serve: venv
	$(ENERGY) serve

# `make live`: real-time monitoring at work on the demo city (docs/monitoring.md). `energy feed`
# writes the next hour of the seven AMI sites every 3 s into $(LIVE_DEMO)/inbox, `energy watch`
# ingests each file into a copy of the demo store (the demo itself is left as it was) and updates
# data/live/, and the live app shows it: http://127.0.0.1:8866/voila/render/live.ipynb. The feed
# doubles one reading (LIVE_OPTS) so that the "unusual use" flag shows. Ctrl-C stops all three.
# One BLAS thread: TOWT's small eigendecompositions are many times slower with more on a busy machine.
LIVE_DEMO := data/live-demo
LIVE_OPTS ?= --anomaly AMI-004@9
live: data
	rm -rf $(LIVE_DEMO) data/live
	mkdir -p $(LIVE_DEMO)/inbox
	cp -r data/store $(LIVE_DEMO)/store
	export ENERGY_LIVE_DIR="$(CURDIR)/data/live" OPENBLAS_NUM_THREADS=1; \
	trap 'kill $$(jobs -p) 2>/dev/null' EXIT; \
	$(ENERGY) watch $(LIVE_DEMO)/inbox --store $(LIVE_DEMO)/store & \
	$(ENERGY) serve & \
	sleep 8; $(ENERGY) feed $(LIVE_DEMO)/inbox --store $(LIVE_DEMO)/store $(LIVE_OPTS); wait

# The browser tests drive Chromium: tests/e2e/browser.py finds Debian's or Playwright's, installs
# Debian's when apt-get runs without a password, else tries Playwright's download, else stops here
# with one line saying what to install.
test: venv
	@$(BIN)/python tests/e2e/browser.py --install
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

$(EEMETER2):
	@test -x .venv-eemeter/bin/python || $(PYTHON) -m venv .venv-eemeter
	.venv-eemeter/bin/python -m pip install --quiet eemeter==2.10.11 numpy==1.24.4 pandas==1.5.3 scipy==1.10.1 \
		statsmodels==0.13.5 patsy==0.5.3
	@touch $@

$(EEMETER4):
	@test -x .venv-eemeter4/bin/python || $(PYTHON) -m venv .venv-eemeter4
	.venv-eemeter4/bin/python -m pip install --quiet eemeter==4.1.1 "pandas<3" pytz
	@touch $@

reference-venvs: $(EEMETER2) $(EEMETER4)

reference-eemeter: $(EEMETER2)
	.venv-eemeter/bin/python tests/reference/make_eemeter_fixture.py
	.venv-eemeter/bin/python tests/reference/make_eemeter_hourly_fixture.py

bench: venv reference-venvs
	$(BIN)/python -m pytest benchmarks -p no:xdist --benchmark-only --benchmark-columns=min,median,max,rounds $(PYTEST_ARGS)

clean:
	rm -rf data/store/* data/raw/demo data/derived/* data/.demo-* reports/site data/live data/live-demo
