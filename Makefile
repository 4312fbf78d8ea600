# Two commands do all the set-up on a fresh machine:  make demo  and  make test.
# Each creates .venv when missing, installs the package with its dependencies, and is quick
# when everything is already installed (a stamp file remembers the install).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.wecom-eval-installed
PYTEST_ARGS ?= -n 2

.PHONY: setup demo test test-fast lab bench lint typecheck clean-data

setup: $(STAMP)
	@# The package is an editable install, so pip compiles none of its modules, and where
	@# PYTHONDONTWRITEBYTECODE is set no process writes them either: every command, worker and
	@# kernel would compile the package from source. compileall writes __pycache__ (git-ignored)
	@# whatever that variable says, and skips modules whose bytecode is current. Python compares
	@# each module's mtime and size with its .pyc when importing, so an edited module is compiled
	@# afresh (in memory, until the next `make setup` writes it) and never runs stale.
	@$(PY) -m compileall -q --invalidation-mode timestamp wecom_eval

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -W ignore::RuntimeWarning -m wecom_eval.reporting.kernel
	@bash scripts/ensure-cjk-font.sh
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/wecom-eval demo

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lab: setup
	@test -f data/warehouse.duckdb || $(VENV)/bin/wecom-eval demo --no-reports
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# every benchmark, then one table (benchmarks/README.md); BENCH_ARGS=--quick for smaller sizes
bench: setup
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) benchmarks/run_all.py $(BENCH_ARGS)

lint: setup
	$(VENV)/bin/ruff check wecom_eval tests benchmarks
	$(VENV)/bin/ruff format --check wecom_eval tests benchmarks

typecheck: setup
	$(VENV)/bin/mypy

clean-data:
	rm -rf data/raw data/demo data/warehouse.duckdb data/warehouse.duckdb.wal reports
