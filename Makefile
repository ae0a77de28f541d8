# Two commands a new user needs: `make demo` and `make test`. Both install into .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ztflows-installed
OUT ?= out/sample

.PHONY: demo test lint chromium unit install bench lock clean

# constraints.txt pins every package to the versions the suite last passed with, so a
# new release upstream cannot turn a clean checkout red; `make lock` refreshes it.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Runs the main job on the bundled sample VPC (three days of flow logs + its inventory).
demo: $(STAMP)
	$(BIN)/ztflows analyze sample_data/flowlogs --inventory sample_data/inventory --out $(OUT)
	@echo "open $(OUT)/report.html; the Terraform is in $(OUT)/terraform/"

# Formatting, lint, types, then the whole test suite (two workers: one per core).
test: lint chromium unit

# The report's test opens report.html in headless Chromium (Debian's package).
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the report's browser test"; \
	    apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "the report's browser test needs /usr/bin/chromium: sudo apt-get install chromium"; \
	    exit 1; \
	  fi; }

lint: $(STAMP)
	$(BIN)/ruff format --check zt_flows tests benchmarks
	$(BIN)/ruff check zt_flows tests benchmarks
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --records 10000000

# Newest versions within pyproject.toml's ranges, in a scratch venv; then run `make test`.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e '.[dev]'
	{ sed -n '1,2p' constraints.txt; .venv-lock/bin/python -m pip freeze --exclude-editable \
	  | grep -v '^#'; } > constraints.txt.tmp && mv constraints.txt.tmp constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
