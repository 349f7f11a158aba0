# The two commands a newcomer needs (as root on a fresh Debian/Ubuntu machine):
#   make demo   - install everything, bring up the local lab, run the main job, reports in out/
#   make test   - install everything and run the whole test suite (lab tests included)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PARAMS ?= params/lab.yaml
OUT ?= out

.PHONY: setup system-deps venv demo test lint lab-up lab-down bench clean

setup: system-deps venv

system-deps:
	@bash scripts/install-system-deps.sh

$(BIN)/runbook: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> pip install -e .[dev] (into $(VENV))"
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -e '.[dev]'
	@$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(BIN)/runbook

venv: $(BIN)/runbook

demo: setup
	@bash scripts/demo.sh $(PARAMS) $(OUT)

test: setup
	@$(BIN)/ruff check runbooklib tests bench notebooks
	@$(BIN)/python -m pytest -q -ra $(PYTEST_ARGS)

lint: venv
	@$(BIN)/ruff check runbooklib tests bench notebooks

lab-up: setup
	@$(BIN)/runbook lab up --params $(PARAMS)

lab-down: venv
	@$(BIN)/runbook lab down --params $(PARAMS)

bench: setup
	@$(BIN)/python -m pip install -q -e '.[bench]'
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
