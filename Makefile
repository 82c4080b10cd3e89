# oms: `make run` (demo on SQLite, eager Celery) and `make test` (PostgreSQL + Redis).
SHELL := /bin/bash
.DEFAULT_GOAL := help

BOOTSTRAP_PYTHON ?= $(shell command -v python3.12 2>/dev/null || pyenv which python3.12 2>/dev/null || echo python3)
UV := .tools/bin/uv
PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv

PGHOST ?= 127.0.0.1
PGPORT ?= 5432
PGUSER ?= postgres
TEST_DATABASE_URL ?= postgres://$(PGUSER)@$(PGHOST):$(PGPORT)/oms
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
HOST ?= 127.0.0.1
PORT ?= 8000

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	$(BOOTSTRAP_PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==0.13.8

# Bytecode compiled at install: otherwise every process (each gunicorn and Celery worker) compiles
# what it imports from source at start, and what it imports lazily in its first request or task.
.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode --python $(BOOTSTRAP_PYTHON)
	@touch $@

install: .venv/.synced ## Create .venv and install the locked dependencies

run: install ## Migrate, load demo data and serve on http://127.0.0.1:8000 (SQLite, eager Celery)
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo --base-url http://$(HOST):$(PORT)
	$(PY) manage.py runserver $(HOST):$(PORT)

# The suite runs on one pytest-xdist worker per core (PYTEST_WORKERS=0: in this process alone).
PYTEST_WORKERS ?= auto

test: install ## Run the whole suite against PostgreSQL and Redis on 127.0.0.1 (not tests/chaos)
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) OMS_ALLOW_INSECURE_KEY=1 OMS_PROFILE=development \
		$(PY) -m pytest --create-db --ignore=tests/chaos -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The fault tests start their own PostgreSQL cluster and Redis server on free ports (never the
# ones above) and need no test database: docs/security.md, "Faults of the database and the broker".
chaos: install ## Fault tests: PostgreSQL and Redis restarts, broker paused, relay killed (a few minutes)
	OMS_ALLOW_INSECURE_KEY=1 OMS_PROFILE=development \
		$(PY) -m pytest tests/chaos -s $(PYTEST_ARGS)

# mypy's files: the kernel package (oms) whole, and in every other top-level package named in
# [tool.importlinter] root_packages its models, services, selectors and handlers, at any depth
# (ops/kpis/selectors.py too).
MYPY_APPS = $(shell $(PY) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["tool"]["importlinter"]["root_packages"])')
MYPY_FILES = oms $(sort $(shell find $(filter-out oms,$(MYPY_APPS)) -path '*/migrations' -prune -o \( -name models -o -name services \) -type d -print -o \( -name models.py -o -name services.py -o -name selectors.py -o -name handlers.py \) -print))

lint: install ## ruff, formatting, import contracts, mypy, migrations up to date
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports
	$(MAKE) --no-print-directory mypy
	$(PY) manage.py makemigrations --check --dry-run

mypy: install ## Type-check the kernel and every app's models, services, selectors, handlers
	.venv/bin/mypy $(MYPY_FILES)

fmt: install ## Format and autofix
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

upgrade-check: install ## Migrate a database built by FROM=<commit> to this checkout; no row lost
	PGHOST=$(PGHOST) PGPORT=$(PGPORT) PGUSER=$(PGUSER) FROM=$(FROM) bash scripts/upgrade-check.sh

bench: install ## Capture benchmark on PostgreSQL vs the SQL floor (prints the ratio)
	PGHOST=$(PGHOST) PGPORT=$(PGPORT) PGUSER=$(PGUSER) bash bench/run.sh

.PHONY: help install run test chaos lint mypy fmt bench upgrade-check
