# salesctl — the two commands are `make run` and `make test` (see README.md). The logic lives in
# scripts/; these targets only name it.

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV_BIN := .venv/bin

.PHONY: help install run test lint format messages migrate seed lock clean bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: ## .venv with requirements.lock, compiled translations, collected static files
	@scripts/install.sh

run: install ## migrate, load the demo data, serve on HOST:PORT (127.0.0.1:8000) with worker and beat
	@scripts/run.sh

test: install ## ruff, migrations and deploy checks, then the whole pytest suite (browser tests too)
	@scripts/test.sh $(PYTEST_ARGS)

lint: install ## ruff check and ruff format --check
	$(VENV_BIN)/ruff check .
	$(VENV_BIN)/ruff format --check .

format: install ## ruff format and ruff check --fix, in place
	$(VENV_BIN)/ruff format .
	$(VENV_BIN)/ruff check --fix .

messages: install ## extract the strings to translate into locale/zh_Hans and compile the catalogs
	DEBUG=1 $(VENV_BIN)/python manage.py makemessages -l zh_Hans --no-location \
		--ignore=staticfiles --ignore=node_modules --ignore=static
	DEBUG=1 $(VENV_BIN)/python manage.py compilemessages --ignore=.venv --ignore=.data

migrate: install ## apply the migrations
	@scripts/with-services.sh $(VENV_BIN)/python manage.py migrate

seed: install ## load the demo company and logins (idempotent)
	@scripts/with-services.sh $(VENV_BIN)/python manage.py seed_demo

bench: install ## load a scale preset (BENCH_PRESET, large) into its own database, serve it with gunicorn, measure, write docs/benchmarks.md
	@scripts/bench.sh

lock: ## re-pin requirements.in into requirements.lock (in a throw-away virtualenv)
	@scripts/lock.sh

clean: ## remove collected static files and the private Postgres/Redis data under .data/
	rm -rf staticfiles .data
