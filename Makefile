# Two commands a new user needs: `make demo` and `make test`. Both install into .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ztflows-installed
OUT ?= out/sample

.PHONY: demo test lint unit install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Runs the main job on the bundled sample VPC (three days of flow logs + its inventory).
demo: $(STAMP)
	$(BIN)/ztflows ingest sample_data/flowlogs --out $(OUT)/records.parquet

# Formatting, lint, types, then the whole test suite (two workers: one per core).
test: lint unit

lint: $(STAMP)
	$(BIN)/ruff format --check zt_flows tests benchmarks
	$(BIN)/ruff check zt_flows tests benchmarks
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --records 10000000

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
