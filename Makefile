# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
# A stamp named after the requirements' checksum: pip runs only when they change.
MAIN_STAMP := $(VENV)/.req-$(shell cat requirements.txt | sha1sum | cut -c1-12)
DEV_STAMP  := $(VENV)/.dev-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: run test bench venv clean-data

run: $(MAIN_STAMP)
	$(PY) serve.py

test: $(DEV_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(DEV_STAMP)
	$(PY) -m bench $(BENCH_ARGS)

venv: $(DEV_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(MAIN_STAMP): requirements.txt | $(VENV)/bin/python
	$(PIP) install -r requirements.txt
	rm -f $(VENV)/.req-* && touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install -r requirements-dev.txt
	rm -f $(VENV)/.dev-* $(VENV)/.req-* && touch $@ $(MAIN_STAMP)

# Stops the embedded server and deletes its data (demo data is re-made by `make run`).
clean-data: $(MAIN_STAMP)
	$(PY) -c "from db import embedded; embedded.destroy()"
	rm -f .data/embedded-url
