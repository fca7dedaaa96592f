# Set-up is part of every target: a fresh Debian machine (as root) needs nothing installed by hand.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
APT_UPDATED := /tmp/.observe-apt-updated
PYTEST_ARGS ?=

.PHONY: demo test lint bench unit integration e2e system-deps browser-deps clean

demo: $(STAMP) system-deps
	$(BIN)/observe demo

test: $(STAMP) system-deps browser-deps
	$(BIN)/pytest $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP) system-deps
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

e2e: $(STAMP) system-deps browser-deps
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	@echo "== OTLP ingest (CPU of one process) =="
	$(BIN)/python -m benchmarks.ingest
	@echo "== topology build, 1,000 services / 10,000 edges =="
	$(BIN)/python -m benchmarks.topology_build

$(STAMP): pyproject.toml
	@python3 -c 'import venv, ensurepip' 2>/dev/null || { $(MAKE) --no-print-directory $(APT_UPDATED) && apt-get install -y python3-venv python3-pip; }
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[ui,test,dev]'
	touch $@

# Debian's prometheus (the demo, integration tests), installed only when missing.
system-deps:
	@command -v prometheus >/dev/null || { $(MAKE) --no-print-directory $(APT_UPDATED) && DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus; }

# Debian's chromium for the browser tests, driven through Playwright; no browser is ever downloaded.
browser-deps:
	@command -v chromium >/dev/null || { $(MAKE) --no-print-directory $(APT_UPDATED) && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

$(APT_UPDATED):
	apt-get update
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
