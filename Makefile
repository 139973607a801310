# The two commands of the README quick start, plus a few for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint lint-imports typecheck catalogue docs-assets bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: all four services embedded on http://127.0.0.1:8000 with demo data, fed live by the demo's
## simulated provincial one-stop system on :8100 (two days of history up to now, then real time)
run: $(STAMP)
	@$(BIN)/cchc simulate provincial --port 8100 --demo --start $$($(BIN)/python -c 'import datetime as d; print(d.date.today() - d.timedelta(days=2))') & SIM=$$!; \
	trap 'kill $$SIM 2>/dev/null' EXIT INT TERM; \
	CCHC_DOSSIERS_PULL_URL=http://127.0.0.1:8100/dvcqg/hoso CCHC_DOSSIERS_PULL_INTERVAL=5 \
	$(BIN)/cchc run --port 8000 --demo

## test: import contracts and types, then the whole suite (PostgreSQL and Kafka tests included), on
## TEST_WORKERS processes (pytest-xdist; each starts its own PostgreSQL and Kafka mock)
TEST_WORKERS ?= logical
test: $(STAMP) lint lint-imports typecheck
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

## lint: ruff's checks and its formatting (settings in pyproject.toml); `ruff format .` fixes the latter
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint-imports: $(STAMP)
	$(BIN)/lint-imports

## typecheck: mypy over the packages (settings in pyproject.toml)
typecheck: $(STAMP)
	$(BIN)/mypy shared services simulator

## catalogue: regenerate the AsyncAPI events catalogue in docs/
catalogue: $(STAMP)
	$(BIN)/cchc catalogue --output docs/asyncapi.json

## docs-assets: pin Swagger UI and GraphiQL (versions in shared/docs_assets/vendor.py) with npm, into the package
docs-assets: $(STAMP)
	$(BIN)/python -m shared.docs_assets.vendor

## bench: the benchmarks of bench/ (not part of the test run)
bench: $(STAMP)
	$(BIN)/python -m bench.outbox_relay
	$(BIN)/python -m bench.dossiers
	$(BIN)/python -m bench.plans
	$(BIN)/python -m bench.webhooks

clean:
	rm -rf $(VENV) var .pytest_cache
