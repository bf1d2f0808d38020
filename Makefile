# The README's two commands: `make demo` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= dev,kafka,accel,nfstream,chdb,clickhouse,ml,mlflow

.PHONY: help setup system-deps demo test lint typecheck unit contract integration e2e bench services-start services-stop clean

help:
	@echo "make demo   - set up and run the closed-loop demo on embedded defaults"
	@echo "make test   - set up, start the real servers, run every test tier, stop the servers"
	@echo "make lint   - ruff + mypy (strict on src/)"
	@echo "make bench  - run every benchmark in benchmarks/"

$(VENV)/.installed: pyproject.toml
	@scripts/setup/system-deps
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -U pip
	$(VENV)/bin/pip install -q -e '.[$(EXTRAS)]'
	touch $@

setup: $(VENV)/.installed

demo: setup
	@mkdir -p .run
	$(VENV)/bin/nwdaf demo --report .run/demo-report.json

test: setup
	scripts/run-tests

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

bench: setup
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache
