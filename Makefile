# Gatehouse — everyday commands. Needs only Python >= 3.11 on the PATH.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/gatehouse_bench
BENCH_BILLING_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/gatehouse_bench_billing
FUZZ_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/gatehouse_fuzz

.PHONY: help install run serve db seed test test-pg test-browser test-all lint translations \
        extract-messages update-translations check-migrations clean bench-gate bench-billing fuzz-api

help:
	@echo "make run           the portal with demo data on SQLite, at http://127.0.0.1:5000, its job worker and the fake Flutterwave"
	@echo "make test          the test suite on SQLite (quick; no browser)"
	@echo "make test-pg       the same suite on PostgreSQL ($(PG_TEST_URL))"
	@echo "make test-browser  browser tests in Debian's Chromium (Playwright)"
	@echo "make lint          ruff, then the layer contracts (lint-imports)"
	@echo "make update-translations / translations   extract + merge / compile the catalogues"
	@echo "make fuzz-api      schemathesis against the kiosk API on PostgreSQL + gunicorn, ~3 minutes; fails on any 5xx"
	@echo "make bench-gate    kiosk scan/checkout load test on PostgreSQL + gunicorn ($(BENCH_DATABASE_URL))"
	@echo "make bench-billing one month's invoices for 10,000 units on PostgreSQL ($(BENCH_BILLING_DATABASE_URL))"

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Gatehouse needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

translations: install
	$(BIN)/pybabel compile --directory translations --statistics

extract-messages: install
	$(BIN)/pybabel extract --mapping-file babel.cfg \
	  --keywords _l --keywords lazy_gettext --keywords lazy_ngettext:1,2 --keywords lazy_pgettext:1c,2 \
	  --add-comments TRANSLATORS: --no-wrap --sort-by-file --project Gatehouse \
	  --output-file translations/messages.pot .

update-translations: extract-messages
	$(BIN)/pybabel update --input-file translations/messages.pot --output-dir translations --no-wrap --no-fuzzy-matching

db: install
	$(FLASK) db upgrade

seed: db
	$(FLASK) seed-demo

# The web server in the foreground, the job worker (message delivery, periodic jobs) and the
# fake Flutterwave (DEV mode without Flutterwave keys; FLUTTERWAVE_BASE_URL) beside it;
# Ctrl-C stops all three.
run: translations seed
	@$(FLASK) worker & worker=$$!; $(FLASK) fake-flutterwave & fake=$$!; \
	trap 'kill $$worker $$fake 2>/dev/null; wait $$worker $$fake 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

serve: translations db
	$(BIN)/gunicorn --workers 4 --bind 127.0.0.1:8000 wsgi:app

test: translations
	$(BIN)/pytest -m "not browser and not slow" -q -n auto

test-pg: translations
	TEST_DATABASE_URL=$(PG_TEST_URL) TEST_REDIS_URL=$(REDIS_TEST_URL) $(BIN)/pytest -m "not browser" -q

test-browser: translations
	$(BIN)/pytest -m browser -q

test-all: test test-pg test-browser

lint: install
	$(BIN)/ruff check portal tests wsgi.py
	$(BIN)/lint-imports

# Not part of CI: seeds a fresh PostgreSQL database, serves it with gunicorn, drives it from
# another process. Extra options: make bench-gate BENCH_ARGS="--levels 1,8 --duration 5".
bench-gate: translations
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m tests.bench.gate_bench $(BENCH_ARGS)

# Not part of CI: seeds a fresh PostgreSQL database with 10,000 units and times one month's
# invoice generation (the job's own code). Options: BENCH_ARGS="--units 2000 --reuse-db".
bench-billing: translations
	BENCH_BILLING_DATABASE_URL=$(BENCH_BILLING_DATABASE_URL) $(BIN)/python -m tests.bench.billing_bench $(BENCH_ARGS)

# Not part of CI: a fresh, seeded PostgreSQL database served by gunicorn, fuzzed from its
# OpenAPI description with a kiosk token; any 5xx fails. Options: FUZZ_ARGS="--max-time 60 -- --seed 1".
fuzz-api: translations
	FUZZ_DATABASE_URL=$(FUZZ_DATABASE_URL) $(BIN)/python -m tests.fuzz.api_fuzz $(FUZZ_ARGS)

check-migrations: install
	$(FLASK) db check

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
	find translations -name '*.mo' -delete
