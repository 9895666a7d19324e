# The two commands of the README: `make run` and `make test`. Everything they need is set up here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REQS := requirements.txt requirements-dev.txt constraints.txt
STAMP := $(VENV)/.installed-$(shell cat $(REQS) | cksum | cut -d' ' -f1)

.PHONY: install run test lint worker web messages bench audit load clean

$(STAMP): $(REQS)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)
	$(BIN)/python manage.py compilemessages_py

## make run: set up, migrate, load the demo data once, serve on http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/python manage.py compilemessages_py
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Open http://127.0.0.1:8000 and log in with one of the demo logins above."
	@# Without a broker (no REDIS_URL) tasks run eagerly, so nothing would run the periodic ones (webhook
	@# retries, reminders...): a beat process beside the web server runs each of them itself, in turn.
	@eager=$$($(BIN)/python manage.py shell --no-imports -c "from django.conf import settings; print(int(settings.CELERY_TASK_ALWAYS_EAGER))"); \
	if [ "$$eager" = 1 ]; then \
	  echo "No task broker: periodic tasks (webhook retries included) run in a beat process beside the server."; \
	  $(BIN)/celery -A crm beat --loglevel=WARNING --schedule $(VENV)/celerybeat-schedule & beat=$$!; \
	  trap 'kill $$beat 2>/dev/null' EXIT INT TERM; \
	fi; \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## make test: lint (ruff, import layering), migrations check (complete, and safe to apply while the
## previous release runs: core/migration_safety.py) and the whole test suite, in TEST_WORKERS processes
## (pytest-xdist; each file runs whole in one of them; TEST_WORKERS=0 for one process)
TEST_WORKERS ?= 2
test: $(STAMP) lint
	$(BIN)/python manage.py compilemessages_py
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py migrations_safety_check
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

## make audit: known vulnerabilities of every pinned dependency (pip-audit over constraints.txt)
audit: $(STAMP)
	bash .ci/audit.sh

## make load: load test on 127.0.0.1: its own PostgreSQL database and redis-server, gunicorn and a
## Celery worker, locust for 60 s
## (board, opportunity list API, board moves); fails on any error; p50/p95 into BENCHMARKS.md.
## LOAD_NODES=2: two gunicorn instances and two workers (ports LOAD_PORT and LOAD_PORT+1), requests
## sent to each in turn; LOAD_NODES=1,2: one run with each, compared in BENCHMARKS.md
LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_load
LOAD_PORT ?= 8790
LOAD_REDIS_PORT ?= 0
LOAD_NODES ?= 1
LOAD_USERS ?= 8
LOAD_DURATION ?= 60
load: $(STAMP)
	$(BIN)/python -m loadtest.run --database-url $(LOAD_DATABASE_URL) --port $(LOAD_PORT) --redis-port $(LOAD_REDIS_PORT) --nodes $(LOAD_NODES) --users $(LOAD_USERS) --duration $(LOAD_DURATION)

## make worker: a Celery worker with the beat scheduler, against REDIS_URL
worker: $(STAMP)
	@test -n "$$REDIS_URL" || { echo "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run a worker."; exit 1; }
	$(BIN)/celery -A crm worker --beat --loglevel=INFO

## make web: the production web server (gunicorn) on 127.0.0.1:8000, access log on standard output
## (crm/gunicorn_conf.py; set PROMETHEUS_MULTIPROC_DIR for /metrics over every worker)
web: $(STAMP)
	$(BIN)/python manage.py compilemessages_py
	$(BIN)/gunicorn crm.wsgi:application -c python:crm.gunicorn_conf --access-logfile - --bind 127.0.0.1:8000 --workers $${WEB_CONCURRENCY:-3}

## make messages: refresh locale/it/LC_MESSAGES/django.po from the code (needs GNU gettext), compile
messages: $(STAMP)
	@command -v xgettext >/dev/null || { echo "make messages needs GNU gettext (apt-get install gettext / brew install gettext)."; exit 1; }
	$(BIN)/python manage.py makemessages -l it
	$(BIN)/python manage.py compilemessages_py --check

## make bench: generate 10k, 100k and 1M deals in a PostgreSQL benchmark database and time every page
## (BENCH_SIZES="10000 100000" to choose; results in BENCHMARKS.md and bench/results/)
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_bench
BENCH_SIZES ?= 10000 100000 100000+900000
BENCH_REPEAT ?= 15
bench: $(STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.run --sizes $(BENCH_SIZES) --repeat $(BENCH_REPEAT)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles test-artifacts
