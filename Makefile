# Two entry points (see README): `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --quiet --disable-pip-version-check

# One stamp per set of extras installed, so `make run` installs only what running needs
# and `make test` after it adds the rest; installing everything also satisfies the others.
RUNTIME_STAMP := $(VENV)/.runtime-stamp
DOCS_STAMP    := $(VENV)/.docs-stamp
STAMP         := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck pytest docs screenshots bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "publisher needs Python 3.11+; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

# the runtime dependencies only
$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

# runtime and mkdocs
$(DOCS_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[docs]'
	@touch $@ $(RUNTIME_STAMP)

# everything: runtime, the test toolchain and mkdocs
$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test,docs]'
	@touch $@ $(RUNTIME_STAMP) $(DOCS_STAMP)

## run: set up, then run the main job on the sample site (feeds into public/, digest into outbox/)
## The sample list is imported first (idempotent: present or unsubscribed addresses are left alone).
run: $(RUNTIME_STAMP)
	@$(BIN)/publisher subscribers import examples/subscribers.csv
	$(BIN)/publisher run

## test: set up, then run every linter, the type checker, the test suite and the strict docs build
test: lint typecheck pytest docs

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# One worker per core and one more, since the suite spends part of its time waiting on
# subprocesses and sockets; idle workers take queued tests from busy ones (worksteal).
WORKERS := $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')
pytest: $(STAMP)
	$(BIN)/pytest -n $(WORKERS) --dist worksteal

## docs: build the documentation site into site/; any warning (a broken link) is an error
## Not --quiet: mkdocs 1.6 then never counts warnings, and --strict passes a broken link
## (mkdocs/mkdocs#4126).
docs: $(DOCS_STAMP)
	$(BIN)/mkdocs build --strict

## screenshots: remake docs/images/ from a real build of the sample site (needs chromium)
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

## bench: run the benchmarks at a size that finishes in a few minutes
bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) public outbox state site
