# Set-up is part of every target: a fresh Debian machine (as root) needs nothing installed by hand.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
APT_UPDATED := /tmp/.observe-apt-updated
PYTEST_ARGS ?=

.PHONY: demo test lint bench soak unit integration e2e system-deps browser-deps clean

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

# Every figure against the synthetic exporter + a real Prometheus (~10 min); writes benchmarks/RESULTS.md and
# results.json. Smaller runs: make bench BENCH_ARGS="--edges 2000 --sweep 100,1000" (see --help; --quick: seconds).
BENCH_ARGS ?=
bench: $(STAMP) system-deps browser-deps
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# Not part of `make test`: the demo stack, 20 API clients and span ingest for SOAK_MINUTES, Prometheus stopped
# and restarted in the middle; prints RSS over time, answers by status (no 5xx) and the recovery time.
SOAK_MINUTES ?= 10
soak: $(STAMP) system-deps
	$(BIN)/python -m benchmarks.soak --minutes $(SOAK_MINUTES)

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
