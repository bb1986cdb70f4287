# Two commands do all the set-up on a fresh machine with Python 3.11+ and pip:
#   make reports   build the demo city, load it into the store, compute and publish
#   make test      run the test suite
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
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k store"`.
PYTEST_ARGS ?=

.PHONY: help venv data reports test bench clean

help:
	@echo "make reports   create .venv, build and ingest the demo city, print a summary"
	@echo "make test      create .venv and run the tests"
	@echo "make bench     run the benchmarks (results: docs/benchmarks.md)"
	@echo "make clean     remove the generated store, raw demo files and reports"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed on PATH (python3)."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

data: venv
	$(ENERGY) demo $(DEMO_OPTS)

reports: data
	$(ENERGY) summary

test: venv
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: venv
	$(BIN)/python -m pytest tests/benchmarks -p no:xdist --benchmark-only --benchmark-columns=min,median,max,rounds $(PYTEST_ARGS)

clean:
	rm -rf data/store/* data/raw/demo data/derived/* reports/site
