# The front door: every task a developer or CI runs has a target here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

run: install
	bash deploy/local/run.sh

stop:
	bash deploy/local/stop.sh

# Against the suite `make run` started (in another shell): roles, examples/, scaling, audit, bill.
DEMO_ARGS ?=
demo: install
	$(BIN)/scs --server http://$${SCS_GATEWAY_HOST:-127.0.0.1}:$${SCS_GATEWAY_PORT:-8080} demo $(DEMO_ARGS)

.PHONY: install run stop demo test test-unit test-interface test-e2e lint format bench servers-up servers-down migrate

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# The tests need RabbitMQ, PostgreSQL and the local cluster: `make test` starts all three.
# pytest's exit code 5 (no test collected) is turned into a failure.
PYTEST_ARGS ?=
TEST_ENV := SCS_TEST_POSTGRES_URL=postgresql://scs:scs@127.0.0.1:5432/scs_test

test: install servers-up cluster-up
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no test: failing" >&2; exit 1; fi; exit $$rc

test-unit: install
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

test-interface: install servers-up
	$(TEST_ENV) $(BIN)/pytest tests/interface $(PYTEST_ARGS)

test-e2e: install servers-up cluster-up
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

servers-up:
	bash deploy/local/servers.sh up

servers-down:
	bash deploy/local/servers.sh down

migrate: install
	$(BIN)/scs-migrate

TYPED_PATHS := shared services gateway runner cli
PY_PATHS := $(TYPED_PATHS) bench tests

lint: install
	$(BIN)/ruff check $(PY_PATHS)
	$(BIN)/ruff format --check $(PY_PATHS)
	$(BIN)/lint-imports
	$(BIN)/mypy $(TYPED_PATHS)

format: install
	$(BIN)/ruff format $(PY_PATHS)
	$(BIN)/ruff check --fix $(PY_PATHS)

-include deploy/cluster/Makefile.inc

bench: install servers-up
	$(BIN)/python -m bench
