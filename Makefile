# `make run` and `make test` are all a fresh machine with Python 3.11 needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Install, create/upgrade the SQLite database, load demo data, serve on :8000 with the worker.
run: $(STAMP)
	$(BIN)/patron init
	$(BIN)/patron demo
	$(BIN)/patron serve --host 127.0.0.1 --port 8000

## Install and run the whole test suite (SQLite and PostgreSQL, CLI, HTTP, browser).
test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: $(STAMP)
	$(BIN)/python bench/import.py

clean:
	rm -rf $(VENV) var patron.db patron.db-wal patron.db-shm
