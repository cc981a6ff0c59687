# Face-Age-Invariant: common tasks. `make help` lists them.
PY ?= python3
VENV ?= .venv
SNAKEMAKE = $(VENV)/bin/snakemake
CORES ?= 2

.PHONY: help setup demo test lint fmt venv-%

help:
	@echo "make setup     - create $(VENV) (Snakemake + the dlib/analysis env) from envs/*.yaml pins"
	@echo "make demo      - setup, then run the whole workflow on the synthetic demo (-c$(CORES))"
	@echo "make test      - setup, then lint and run the test suite"
	@echo "make venv-ENV  - create .venvs/ENV from envs/ENV.yaml (e.g. make venv-insightface)"

$(VENV)/.done: envs/dlib.yaml envs/workflow.yaml scripts/make-venv pyproject.toml
	$(PY) scripts/make-venv dlib workflow --into $(VENV)
	touch $@

setup: $(VENV)/.done

venv-%:
	$(PY) scripts/make-venv $* --into .venvs/$*

demo: setup
	$(SNAKEMAKE) -c$(CORES)

lint: setup
	$(VENV)/bin/ruff check src tests workflow scripts/make-venv
	$(VENV)/bin/snakefmt --check Snakefile workflow/rules
	$(SNAKEMAKE) --lint

fmt: setup
	$(VENV)/bin/ruff format src tests workflow
	$(VENV)/bin/snakefmt Snakefile workflow/rules

test: lint
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)
