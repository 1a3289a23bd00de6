# City Data Hub: make run | make test | make bench | make lint
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
REQ_HASH := $(shell cat requirements.txt | sha256sum | cut -c1-12)
DEV_HASH := $(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)

.PHONY: run setup setup-dev assets migrate demo test test-sqlite bench lint format messages clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.req-$(REQ_HASH): requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-$(DEV_HASH): requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.req-$(REQ_HASH) assets messages

setup-dev: $(VENV)/.dev-$(DEV_HASH) assets messages

# Front-end assets (charts, map) come from the npm registry, never from a CDN. Installed
# once per package-lock.json (a stamp in node_modules): `npm ci` empties node_modules
# first, so running it on every make would pull the files from under a running server.
LOCK_HASH := $(shell cat package-lock.json 2>/dev/null | sha256sum | cut -c1-12)
assets: node_modules/.lock-$(LOCK_HASH)

node_modules/.lock-$(LOCK_HASH):
	@if [ -f package.json ]; then \
	  if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	  else echo "npm not found: the dashboard's chart and map assets will be missing"; fi; \
	fi

# Compile translation catalogs (English UI) when gettext is available.
messages: | $(PY)
	@if ! ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then echo "no translation catalogs to compile"; \
	elif command -v msgfmt >/dev/null 2>&1; then $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v0; \
	else echo "msgfmt not found (apt-get install gettext): English UI not compiled, Chinese UI unaffected"; fi

migrate: setup
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

# DEBUG (debug pages, the demo loader) is on only here: it is off by default everywhere else.
run: export DJANGO_DEBUG ?= 1
run: demo
	@echo "City Data Hub on http://$(HOST):$(PORT)/  (admin: /admin/, API docs: /api/docs/, ops: /ops/)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# The suite runs in one pytest-xdist process per core, then the tests that start worker
# processes on the shared broker (marks broker, mosquitto) one after another in one
# process: two Celery workers on the same queues would take each other's tasks. Exit
# status 5 is "no test selected" (PYTEST_ARGS may pick tests of one pass only).
# TEST_WORKERS=0 runs the first pass in one process too.
TEST_WORKERS ?= auto
REAL_STACK = broker or mosquitto
test: setup-dev
	$(PY) -m pytest -n $(TEST_WORKERS) -m "not ($(REAL_STACK))" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(PY) -m pytest -m "$(REAL_STACK)" $(PYTEST_ARGS) || [ $$? -eq 5 ]

# Benchmarks need the real stack: PostgreSQL and a broker (the sync benchmark starts workers).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/hub_bench
BENCH_BROKER_URL ?= redis://127.0.0.1:6379/14
bench: setup-dev
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(BENCH_BROKER_URL)} \
	CELERY_RESULT_BACKEND=$${CELERY_RESULT_BACKEND:-$(BENCH_BROKER_URL)} \
	$(PY) -m bench $(BENCH_ARGS)

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: setup-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) node_modules staticfiles
