# The two commands: `make run` (the demo on http://127.0.0.1:8000) and `make test`.
# `make test-clock` runs the tests of "now" and "today" at sixteen London times.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: run test test-clock install assets browser lint migrate seed clean bench bench-alerts bench-calendar bench-activity bench-dashboards

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml uv.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv sync --frozen --inexact --quiet
	touch $@

install: $(VENV)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.installed

# Chromium for the end-to-end journeys (Debian's package; needs root and apt-get).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not installed: the end-to-end tests will be skipped"; fi; }

migrate: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput

seed: migrate
	DEBUG=1 $(BIN)/python manage.py seed_demo

run: install assets seed
	@echo "Starting web, worker and scheduler on http://127.0.0.1:$(PORT)"
	DEBUG=1 MFA_REQUIRED_FOR_STAFF=0 $(BIN)/honcho start -f Procfile.dev -p $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install assets browser lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n auto

# The tests of "now", "today" and "tonight", each run with every test starting at
# one London wall-clock time (TEST_CLOCK, read by tests/conftest.py): the small
# hours, the morning, the evening and the last minute of an ordinary day, of both
# clock-change days and of 31 December. Every clock runs even when one fails;
# the summary names the clocks that failed.
CLOCK_DAYS ?= 2027-02-10 2027-03-28 2027-10-31 2026-12-31
CLOCK_HOURS ?= 00:30 09:00 17:30 23:59
# The modules where stays, crises, covers, limits, reviews, the calendar's reminders
# and the reminders of regular contact are reckoned from now
# (about 230 tests); pass CLOCK_TESTS=tests/sleepovers for a longer sweep.
CLOCK_TESTS ?= tests/sleepovers/test_services.py tests/sleepovers/test_cover_and_limits.py \
	tests/delegated_authority/test_services.py tests/calendar_events/test_reminders.py \
	tests/constellation/test_contact_reminders.py tests/constellation/test_tasks.py
CLOCK_WORKERS ?= 2

# The first clock builds the test databases afresh (--create-db: never a schema left
# from an older run); the others reuse them.
test-clock: install
	@failed=""; db="--create-db"; \
	for day in $(CLOCK_DAYS); do for hour in $(CLOCK_HOURS); do \
	  clock="$${day}T$${hour}"; \
	  echo; echo "==== TEST_CLOCK=$$clock (Europe/London) ===="; \
	  TEST_CLOCK="$$clock" $(BIN)/pytest -q -p no:cacheprovider --reuse-db $$db -n $(CLOCK_WORKERS) \
	    $(CLOCK_TESTS) || failed="$$failed $$clock"; \
	  db=""; \
	done; done; \
	echo; \
	if [ -n "$$failed" ]; then echo "==== test-clock: FAILED at$$failed ===="; exit 1; fi; \
	echo "==== test-clock: passed at every clock ===="

bench: install
	$(BIN)/python bench/sleepovers.py
	$(BIN)/python bench/pages.py

# The fostering manager's dashboard at 50 constellations over five years and at a
# tenth, against a trivial page: builds its own PostgreSQL databases bench_dash_full
# and bench_dash_tenth (BENCH_POSTGRES_URL names the server); pass ARGS=--reuse to
# keep them.
bench-dashboards: install
	$(BIN)/python bench/dashboards.py $(ARGS)

# From a crisis request to the hub carer's text message, through a real worker:
# on the embedded filesystem broker, and on Redis when REDIS_URL is set. Needs a
# throw-away PostgreSQL database (SQLite refuses the worker's concurrent writes).
# The calendar's month, week and date pages, the subscription feed and the API's list.
bench-calendar: install
	$(BIN)/python bench/calendar_pages.py

# The liaison worker's desk and activity feed at 10,000 and 100,000 activity rows.
bench-activity: install
	$(BIN)/python bench/activity_feed.py

bench-alerts: install
	BENCH_DATABASE_URL=$${BENCH_DATABASE_URL:?name a throw-away PostgreSQL database} \
	  $(BIN)/python bench/alerts.py --broker filesystem
	@if [ -n "$$REDIS_URL" ]; then $(BIN)/python bench/alerts.py --broker redis; fi

clean:
	rm -rf $(VENV) node_modules var
