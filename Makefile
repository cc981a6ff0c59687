# Face-Age-Invariant: common tasks. `make help` lists them.
PY ?= python3
VENV ?= .venv
SNAKEMAKE = $(VENV)/bin/snakemake
CORES ?= 2

.PHONY: help setup demo test lint fmt venv-% slurm-profile

help:
	@echo "make setup     - create $(VENV) (Snakemake + the dlib/analysis env) from envs/*.yaml pins"
	@echo "make demo      - setup, then run the whole workflow on the synthetic demo (-c$(CORES))"
	@echo "make test      - setup, then lint and run the test suite"
	@echo "make venv-ENV  - create .venvs/ENV from envs/ENV.yaml (e.g. make venv-insightface)"
	@echo "make slurm-profile - link profiles/slurm{,-gpu} into ~/.config/snakemake: snakemake --profile slurm"

$(VENV)/.done: envs/dlib.yaml envs/workflow.yaml scripts/make-venv pyproject.toml
	$(PY) scripts/make-venv dlib workflow --into $(VENV)
	touch $@

setup: $(VENV)/.done

venv-%:
	$(PY) scripts/make-venv $* --into .venvs/$*

# `snakemake --profile slurm` looks in ~/.config/snakemake/slurm, not in ./profiles (docs/cluster.md).
SNAKEMAKE_PROFILES ?= $(or $(XDG_CONFIG_HOME),$(HOME)/.config)/snakemake
slurm-profile:
	mkdir -p $(SNAKEMAKE_PROFILES)
	for p in slurm slurm-gpu; do \
	  if [ -e $(SNAKEMAKE_PROFILES)/$$p ] && [ ! -L $(SNAKEMAKE_PROFILES)/$$p ]; then \
	    echo "$(SNAKEMAKE_PROFILES)/$$p exists and is not our link: move it away first" >&2; exit 1; fi; \
	  ln -sfn $(CURDIR)/profiles/$$p $(SNAKEMAKE_PROFILES)/$$p && echo "$(SNAKEMAKE_PROFILES)/$$p -> $(CURDIR)/profiles/$$p"; \
	done

demo: setup
	$(SNAKEMAKE) -c$(CORES)

lint: setup
	$(VENV)/bin/ruff check src tests workflow scripts/make-venv
	$(VENV)/bin/ruff format --check src tests workflow scripts/*.py
	$(VENV)/bin/snakefmt --check Snakefile workflow/rules
	$(SNAKEMAKE) --lint

fmt: setup
	$(VENV)/bin/ruff format src tests workflow scripts/*.py
	$(VENV)/bin/snakefmt Snakefile workflow/rules

test: lint
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)
