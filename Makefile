# The two commands: `make run` (the demo on http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: run test install assets browser lint migrate seed clean bench

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

bench: install
	$(BIN)/python bench/sleepovers.py
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) node_modules var
