# The two commands of the README quick start, plus a few for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint-imports catalogue bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: all four services embedded on http://127.0.0.1:8000 with demo data
run: $(STAMP)
	$(BIN)/cchc run --port 8000 --demo

## test: import contracts, then the whole suite (PostgreSQL and Kafka tests included)
test: $(STAMP) lint-imports
	$(BIN)/python -m pytest

lint-imports: $(STAMP)
	$(BIN)/lint-imports

## catalogue: regenerate the AsyncAPI events catalogue in docs/
catalogue: $(STAMP)
	$(BIN)/cchc catalogue --output docs/asyncapi.json

## bench: the benchmarks of bench/ (not part of the test run)
bench: $(STAMP)
	$(BIN)/python -m bench.outbox_relay
	$(BIN)/python -m bench.plans

clean:
	rm -rf $(VENV) var .pytest_cache
