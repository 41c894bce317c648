# FreshChain: `make run` starts the whole stack with demo data; `make test` runs lint and
# every test. Both install what is missing first and are safe to run again.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
export PATH := $(CURDIR)/$(BIN):$(PATH)
export WEB_HOST ?= 127.0.0.1
export WEB_PORT ?= 8000
# Migrations run as the owner of the tables; everything else as the application's role,
# which migrate grants only what it needs (scripts/services.sh creates both roles).
DATABASE_OWNER_URL ?= postgis://freshchain:freshchain@127.0.0.1:5432/freshchain

# The settings fail closed (DEBUG off, no secret key); `make run` and the catalogue commands
# are development on this machine, so they set both unless the environment already does.
run translations messages backup restore-check audit load: export DJANGO_DEBUG ?= true
run translations messages backup restore-check audit load: export DJANGO_SECRET_KEY ?= dev-only-insecure-key-for-make-run-0123456789abcdefghijklmnop

LOAD_URL ?= http://127.0.0.1:8080
LOAD_MINUTES ?= 10

.PHONY: load cluster cluster-stop cluster-test run test lint typecheck format bench services services-browser translations messages clean backup restore-check audit

run: services $(VENV)/.installed translations
	DATABASE_URL=$(DATABASE_OWNER_URL) $(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	mkdir -p var
	$(MANAGE) seed_demo
	@echo
	@echo "FreshChain is starting at http://$(WEB_HOST):$(WEB_PORT)/  (health: /healthz, API: /api/docs/)"
	@echo "Ctrl-C stops the web server, the Celery worker and beat."
	@echo
	rm -rf var/metrics && mkdir -p var/metrics
	PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/var/metrics $(BIN)/honcho start

# The deployment of deploy/ on this machine, every part its own process talking over the network:
# nginx :8080 → uvicorn :8081 and :8082, PgBouncer :6432 (transaction mode) → PostgreSQL
# (database fc_clusterdemo), a realtime and a batch Celery worker, beat (scripts/cluster.py).
# Ctrl-C, or `make cluster-stop` from another shell, stops it all.
cluster: $(VENV)/.installed translations
	$(BIN)/python scripts/cluster.py run

cluster-stop:
	$(BIN)/python scripts/cluster.py stop

# Starts the cluster (or uses the running one) and drives it through nginx: browser journeys,
# the API, a push across web processes, a web process and the workers killed mid-work
# (tests/cluster/, which `make test` leaves out). Leaves the cluster running.
cluster-test: services-browser $(VENV)/.installed translations
	$(BIN)/python scripts/cluster.py start
	FRESHCHAIN_CLUSTER_TESTS=1 $(BIN)/pytest -p no:randomly -v -s tests/cluster

# A backup of the database (pg_dump, custom format, as the tables' owner) and the media into
# var/backups/<time>/ (BACKUP_DIR), keeping the newest BACKUP_KEEP.
backup: services $(VENV)/.installed
	DATABASE_URL=$(DATABASE_OWNER_URL) $(MANAGE) backup

# Restore the newest backup into a scratch database, verify the ledger, reconcile the markets,
# compare every table's row count; one line of verdict, non-zero exit when it fails.
restore-check: services $(VENV)/.installed
	DATABASE_URL=$(DATABASE_OWNER_URL) $(MANAGE) restore_check

# --create-db: a fresh test database every run, so rows left by an interrupted run (tests with
# real commits, for threads and the Celery worker) can never fail the next one.
# scripts/test_suite.py runs the suite in two processes (pytest-xdist), a file's tests together,
# each with its own database and Redis database; then the API contract test in one process per
# core (its generated cases cannot be shared out by xdist).
test: services-browser $(VENV)/.installed translations lint
	$(BIN)/python scripts/test_suite.py

# Style (ruff), the house's layers (import-linter) and the domain's types (mypy).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

# Types of the domain modules ([tool.mypy] in pyproject.toml says which files; the plugin
# loads config.test_settings, which needs no environment).
typecheck: $(VENV)/.installed
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# make bench, or make bench NAME=api
bench: $(VENV)/.installed translations
	scripts/services.sh --bench
	$(BIN)/python bench/run.py $(NAME)

# The whole platform at once under mixed load (bench/load/run.py, locust) against a stack
# already running at LOAD_URL (make cluster's nginx by default) for LOAD_MINUTES; prepares
# the load's accounts in the stack's database first (DATABASE_URL, as the stack has it).
# Prints throughput and p95 per operation, errors, sockets and the processes' memory. Not
# part of make test (a minute of CI's 20): its own tests (tests/bench: the pool of accounts and
# the locustfile) run first here. LOAD_ARGS passes more (--web-pids 1,2 --worker-pids 3 --no-prepare).
load: $(VENV)/.installed
	$(BIN)/pytest --create-db -q -p no:randomly tests/bench
	$(BIN)/python bench/load/run.py --url $(LOAD_URL) --minutes $(LOAD_MINUTES) $(LOAD_ARGS)

services:
	scripts/services.sh

services-browser:
	scripts/services.sh --browser

# --no-compile: Python compiles a module when it is first imported; compiling all 12,000 files
# of the dependencies up front took CPU from a fresh clone's `make test`.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile '.[dev]'
	touch $@

translations: $(VENV)/.installed
	$(MANAGE) compilemessages --ignore '.venv' --verbosity 0

# Refresh locale/*/django.po after changing translatable strings.
messages: $(VENV)/.installed
	$(MANAGE) makemessages --locale zh_Hans --ignore '.venv/*' --ignore 'var/*' --ignore 'bench/*' --ignore 'tests/*' --no-obsolete

clean:
	rm -rf var $(VENV)

# Phone-class audit (Lighthouse 12 from npm on Node 20, Debian's Chromium, mobile preset) of
# the home page, the demo farmer's sell page and the demo buyer's search, against a server that
# scripts/audit.py starts with production settings; fails below performance 90, accessibility
# 95, best practices 95. Needs node/npm (Debian's nodejs and npm). Not part of `make test`.
audit: services-browser $(VENV)/.installed translations
	command -v npx >/dev/null || apt-get install -y --no-install-recommends nodejs npm
	DATABASE_URL=$(DATABASE_OWNER_URL) $(MANAGE) migrate --noinput
	DJANGO_DEBUG=false $(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) seed_demo
	$(BIN)/python scripts/audit.py
