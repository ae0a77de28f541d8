# Two commands a new user needs: `make demo` and `make test`. Both install into .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ztflows-installed
OUT ?= out/sample

.PHONY: demo test lint chromium checkov unit install bench lock clean

# The Terraform tests apply estates to a local AWS with real Terraform and the AWS
# provider from a local filesystem mirror (no network). Where they are: ZTFLOWS_TERRAFORM
# (default: terraform on PATH) and ZTFLOWS_TF_PLUGIN_DIR, the folder holding
# registry.terraform.io/hashicorp/aws/... Unset, the usual places are looked at, then the
# whole disk (once per make run); see tests/support/tfharness.py.
PROVIDER_PATH := registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws_*
PROVIDER_FOUND := $(firstword $(wildcard /opt/*/$(PROVIDER_PATH) \
  /usr/local/share/terraform/plugins/$(PROVIDER_PATH) /usr/share/terraform/plugins/$(PROVIDER_PATH) \
  $(HOME)/.terraform.d/plugins/$(PROVIDER_PATH) $(HOME)/.local/share/terraform/plugins/$(PROVIDER_PATH)))
ZTFLOWS_TF_PLUGIN_DIR ?= $(firstword $(subst /registry.terraform.io/, ,$(PROVIDER_FOUND)))
ifeq ($(ZTFLOWS_TF_PLUGIN_DIR),)
ZTFLOWS_TF_PLUGIN_DIR := $(shell f=$$(find / -xdev -path '*/registry.terraform.io/hashicorp/aws/*' \
  -name 'terraform-provider-aws_*' -print -quit 2>/dev/null); [ -n "$$f" ] && echo "$${f%%/registry.terraform.io/*}")
endif
export ZTFLOWS_TF_PLUGIN_DIR

# checkov checks the Terraform ztflows writes; it cannot live in .venv (it installs its own
# "hcl2" module over python-hcl2's and pins older networkx and boto3), so it gets its own.
CHECKOV_VERSION ?= 3.3.30
CHECKOV_VENV ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
export ZTFLOWS_CHECKOV ?= $(CURDIR)/$(CHECKOV_VENV)/bin/checkov

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
test: lint chromium checkov unit

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

$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $@

checkov: $(CHECKOV_STAMP)

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
	rm -rf $(VENV) $(CHECKOV_VENV) out .pytest_cache .mypy_cache .ruff_cache
