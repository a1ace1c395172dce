# The front door: every task a developer or CI runs has a target here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run stop test test-unit test-interface test-e2e lint format bench servers-up servers-down migrate

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

servers-up:
	bash deploy/local/servers.sh up

servers-down:
	bash deploy/local/servers.sh down

migrate: install
	$(BIN)/scs-migrate

lint: install
	$(BIN)/ruff check shared services gateway tests
	$(BIN)/ruff format --check shared services gateway tests
	$(BIN)/lint-imports
	$(BIN)/mypy shared services gateway

format: install
	$(BIN)/ruff format shared services gateway tests
	$(BIN)/ruff check --fix shared services gateway tests

-include deploy/cluster/Makefile.inc
