# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck layers check migrate install clean props

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
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

test: check
	$(BIN)/pytest

# Stateful property tests, long profile: more and longer examples, a fresh seed (printed;
# replay with PROPS_SEED=<seed>). docs/property-tests.md
props: $(STAMP)
	HYPOTHESIS_PROFILE=long $(BIN)/pytest tests/property -s -q

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
