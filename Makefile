# `make run` serves the embedded default; `make test` passes the tests.
# Each target installs only what it needs: `run` the service itself, `bench` adds the
# benchmark baseline, `test`/`check`/`lint`/`types`/`contracts`/`vulture` add the development tools
# (and the baseline, because the suite smoke-tests the benchmarks).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
RUN_STAMP := $(VENV)/.installed-run
BENCH_STAMP := $(VENV)/.installed-bench
DEV_STAMP := $(VENV)/.installed-dev
PYTEST_ARGS ?=

.PHONY: run test check lint types contracts vulture bench install format clean version

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[bench]'
	@touch $@ $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev,bench]'
	@touch $@ $(BENCH_STAMP) $(RUN_STAMP)

install: $(DEV_STAMP)

run: $(RUN_STAMP)
	$(BIN)/dloop-bot migrate
	@echo "Dashboard login (one-time link, 15 min):"
	@$(BIN)/dloop-bot login-link
	$(BIN)/dloop-bot serve

version: $(RUN_STAMP)
	@$(BIN)/dloop-bot --version

test: $(DEV_STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

types: $(DEV_STAMP)
	$(BIN)/mypy

contracts: $(DEV_STAMP)
	$(BIN)/lint-imports

# Dead code; settings and the reasons for each exception in pyproject.toml [tool.vulture]
# and tests/vulture_whitelist.py.
vulture: $(DEV_STAMP)
	$(BIN)/vulture

check: lint types contracts vulture test

bench: $(BENCH_STAMP)
	$(BIN)/dloop-bot bench all

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache *.egg-info
