# Quick start: `make run` and `make test`. Everything is installed into .venv by this file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test bench bench-smoke lint typecheck clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

run: $(STAMP)
	mkdir -p .legato
	$(BIN)/legato dev legato.examples.orders --db sqlite:///.legato/legato.db --example

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/asl_bench.py
	$(BIN)/python bench/recovery.py
	$(BIN)/python bench/api_bench.py
	$(BIN)/python bench/trigger_bench.py
	$(BIN)/python bench/ui_bench.py
	$(BIN)/python bench/dmap_bench.py
	$(BIN)/python bench/aws_bench.py

bench-smoke: $(BENCH_STAMP)
	$(BIN)/python bench/run.py --smoke
	$(BIN)/python bench/asl_bench.py --smoke
	$(BIN)/python bench/recovery.py --smoke
	$(BIN)/python bench/api_bench.py --smoke
	$(BIN)/python bench/trigger_bench.py --smoke
	$(BIN)/python bench/ui_bench.py --smoke
	$(BIN)/python bench/dmap_bench.py --smoke
	$(BIN)/python bench/aws_bench.py --smoke

clean:
	rm -rf $(VENV) .legato .pytest_cache .mypy_cache
