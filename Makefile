# Dealbook: `make run` serves the app, `make test` runs every check. Both set everything up
# on a fresh machine (venv, packages, htmx, database) and are safe to repeat.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HTMX := static/vendor/htmx.min.js
HX_CSP := static/vendor/hx-csp.min.js
SWAGGER := static/vendor/swagger/swagger-ui-bundle.js
NPM_INSTALLED := node_modules/.installed

export HOST ?= 127.0.0.1
export PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help setup run serve-prod test lint format migrate seed bench loadtest services clean

help:
	@echo "make run      set up, migrate, seed (empty database only) and serve on $(HOST):$(PORT)"
	@echo "make test     set up, then ruff, import contracts and pytest on SQLite and PostgreSQL"
	@echo "make lint     ruff check, ruff format --check, import-linter"
	@echo "make format   ruff format and safe fixes"
	@echo "make migrate  apply migrations to DATABASE_URL (default sqlite:///var/dealbook.db)"
	@echo "make seed     load the reference deals into an empty database"
	@echo "make bench    run the engine, page and PDF benchmarks (JSON lines)"
	@echo "make serve-prod  serve with WEB_CONCURRENCY gunicorn workers (production)"
	@echo "make loadtest wrk against 2 gunicorn workers on PostgreSQL (~8 min; LOADTEST_QUICK=1: ~1 min)"

$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

$(NPM_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(HTMX): $(NPM_INSTALLED)
	@mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

$(HX_CSP): $(NPM_INSTALLED)
	@mkdir -p static/vendor
	cp node_modules/htmx.org/dist/ext/hx-csp.min.js $@

$(SWAGGER): $(NPM_INSTALLED)
	@mkdir -p static/vendor/swagger
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css static/vendor/swagger/

setup: $(INSTALLED) $(HTMX) $(HX_CSP) $(SWAGGER)
	@mkdir -p var
	@bash scripts/system-packages

migrate: setup
	$(BIN)/dealbook migrate

seed: migrate
	$(BIN)/dealbook seed

run: seed
	$(BIN)/dealbook init-admin
	$(BIN)/dealbook serve --host $(HOST) --port $(PORT)

# Several worker processes under gunicorn (WEB_CONCURRENCY, default 2); see gunicorn.conf.py.
serve-prod: seed
	$(BIN)/dealbook init-admin
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py

services:
	@bash scripts/test-services

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# wrk against gunicorn (2 workers) on PostgreSQL; LOADTEST_QUICK=1 for a smoke run. See docs/benchmarks.md.
loadtest: setup
	$(BIN)/python -m bench.loadtest

test: setup services lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache
