# Face-Age-Invariant: common tasks. `make help` lists them.
PY ?= python3
VENV ?= .venv
SNAKEMAKE = $(VENV)/bin/snakemake
CORES ?= 2

.PHONY: help setup demo test check lint fmt lock venv-% slurm-profile

help:
	@echo "make setup     - create $(VENV) (Snakemake + the dlib/analysis env) from envs/locks/dlib+workflow.txt"
	@echo "make demo      - setup, then run the whole workflow on the synthetic demo (-c$(CORES))"
	@echo "make test      - setup, then lint and run the whole test suite (every tier; what CI runs)"
	@echo "make check     - setup, then the fast tests (pytest -m 'not slow'; at most 3 min on 2 cores)"
	@echo "make venv-ENV  - create .venvs/ENV from envs/locks/ENV.txt (e.g. make venv-insightface)"
	@echo "make lock      - rewrite envs/locks/ and the env files' pip lists from their # pin: lines (uv;"
	@echo "                 every package pinned and hashed; locked versions kept, UPGRADE=1: newest)"
	@echo "make slurm-profile - link profiles/slurm into ~/.config/snakemake: snakemake --profile slurm"

$(VENV)/.done: envs/dlib.yaml envs/workflow.yaml envs/locks/dlib+workflow.txt scripts/make-venv pyproject.toml
	$(PY) scripts/make-venv dlib workflow --into $(VENV)
	touch $@

setup: $(VENV)/.done

venv-%:
	$(PY) scripts/make-venv $* --into .venvs/$*

# Every env's lock from its env file's `# pin:` lines, and the same lock as the env file's pip
# list (uv from the workflow env; scripts/lock-envs). UPGRADE=1 re-resolves at the newest versions.
lock: setup
	$(VENV)/bin/python scripts/lock-envs --uv $(VENV)/bin/uv $(if $(UPGRADE),--upgrade)

# `snakemake --profile slurm` looks in ~/.config/snakemake/slurm, not in ./profiles (docs/cluster.md).
SNAKEMAKE_PROFILES ?= $(or $(XDG_CONFIG_HOME),$(HOME)/.config)/snakemake
slurm-profile:
	mkdir -p $(SNAKEMAKE_PROFILES)
	for p in slurm; do \
	  if [ -e $(SNAKEMAKE_PROFILES)/$$p ] && [ ! -L $(SNAKEMAKE_PROFILES)/$$p ]; then \
	    echo "$(SNAKEMAKE_PROFILES)/$$p exists and is not our link: move it away first" >&2; exit 1; fi; \
	  ln -sfn $(CURDIR)/profiles/$$p $(SNAKEMAKE_PROFILES)/$$p && echo "$(SNAKEMAKE_PROFILES)/$$p -> $(CURDIR)/profiles/$$p"; \
	done

demo: setup
	$(SNAKEMAKE) -c$(CORES)

lint: setup
	$(VENV)/bin/ruff check src tests workflow scripts/make-venv scripts/lock-envs
	$(VENV)/bin/ruff format --check src tests workflow scripts/*.py scripts/make-venv scripts/lock-envs
	$(VENV)/bin/snakefmt --check workflow/Snakefile workflow/rules
	$(SNAKEMAKE) --lint

fmt: setup
	$(VENV)/bin/ruff format src tests workflow scripts/*.py scripts/make-venv scripts/lock-envs
	$(VENV)/bin/snakefmt workflow/Snakefile workflow/rules

# One process by default: on 2 cores two pytest-xdist workers gave no gain (tests/README.md).
# With more cores: PYTEST_PARALLEL="-n 4 --dist loadfile" (each test file one unit, the files that
# use the session runs one unit; tests/conftest.py).
PYTEST_PARALLEL ?=

test: lint
	$(VENV)/bin/python -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# The unit tests and the fast workflow tests (tests/README.md, the tiers): before every commit.
check: setup
	$(VENV)/bin/python -m pytest -m "not slow" -q $(PYTEST_PARALLEL) $(PYTEST_ARGS)
