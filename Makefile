# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Test processes (pytest-xdist); each starts its own throwaway PostgreSQL cluster.
TEST_WORKERS ?= 2
STAMP  := $(VENV)/.installed
# GOV.UK Frontend's compiled CSS and JS (pinned in package.json), served from /static/govuk.
ASSETS := api/web/static/govuk/govuk-frontend.min.css
# axe-core (a devDependency) for the accessibility tests only: copied outside the served
# static folder, so no page can load it (tests/support/axe.py injects it).
AXE := tests/support/vendor/axe.min.js

.PHONY: run test lint typecheck layers check migrate install assets clean chaos fuzz props bench

$(ASSETS): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq >/dev/null && apt-get install -y -qq npm >/dev/null; \
	  else echo "make install needs npm: sudo apt-get install npm" >&2; exit 2; fi; }
	npm ci --no-audit --no-fund --silent
	mkdir -p api/web/static/govuk
	# No fonts, no crest, no logotype: not a GOV.UK service (docs/web.md).
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css \
	   node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js api/web/static/govuk/
	mkdir -p $(dir $(AXE))
	cp node_modules/axe-core/axe.min.js $(AXE)
	touch $(ASSETS)

assets: $(ASSETS)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) $(ASSETS)

migrate: $(STAMP) $(ASSETS)
	$(BIN)/casereview migrate

run: migrate
	$(BIN)/casereview setup --if-needed
	$(BIN)/casereview serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

check: lint typecheck layers

test: check $(ASSETS)
	$(BIN)/pytest -n $(TEST_WORKERS)

# Crash test, long version: SIGKILL `casereview serve --workers 2` on PostgreSQL
# repeatedly under load, then check every acknowledged write (tests/chaos/ledger.py).
CHAOS_SECONDS ?= 300
CHAOS_KILLS   ?= 20
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos.ledger --seconds $(CHAOS_SECONDS) --kills $(CHAOS_KILLS)

# A longer API fuzz campaign than CI's (docs/testing.md): a fresh seed, printed first so
# the run can be repeated (CASEREVIEW_FUZZ_SEED=<seed> make fuzz), more examples, and
# both backends.
FUZZ_EXAMPLES ?= 1000
FUZZ_STATEFUL_EXAMPLES ?= 400
fuzz: $(STAMP)
	@seed=$${CASEREVIEW_FUZZ_SEED:-$$($(BIN)/python -c 'import secrets; print(secrets.randbits(63))')}; \
	echo "fuzz seed: $$seed (repeat with CASEREVIEW_FUZZ_SEED=$$seed make fuzz)"; \
	CASEREVIEW_FUZZ_SEED=$$seed CASEREVIEW_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
	CASEREVIEW_FUZZ_STATEFUL_EXAMPLES=$(FUZZ_STATEFUL_EXAMPLES) \
	CASEREVIEW_FUZZ_BACKENDS=$${CASEREVIEW_FUZZ_BACKENDS:-sqlite,postgresql} \
	$(BIN)/pytest tests/fuzz -q -p no:cacheprovider --timeout=0

# Stateful property tests, long profile: more and longer examples, a fresh seed (printed;
# replay with PROPS_SEED=<seed>). docs/property-tests.md
props: $(STAMP)
	HYPOTHESIS_PROFILE=long $(BIN)/pytest tests/property -s -q

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache node_modules api/web/static/govuk

# Benchmarks (docs/performance.md): not tests. `make bench QUICK=1` for a short smoke run.
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; \
	  else echo "make bench needs wrk: sudo apt-get install wrk" >&2; exit 2; fi; }
	$(BIN)/python -m bench.run $(if $(QUICK),--quick,) $(BENCH_ARGS)
