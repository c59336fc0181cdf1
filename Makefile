# payemu — every target creates .venv on first use; nothing outside the project is needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8080
HOST   ?= 127.0.0.1

.PHONY: serve test lint check bench openapi fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

serve: $(VENV)/.installed  ## install and serve on http://$(HOST):$(PORT)
	$(BIN)/payemu serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test  ## install with test extras and run the whole suite
	$(BIN)/ruff check emulator tests
	$(BIN)/payemu check
	$(BIN)/pytest -n 2 --dist loadfile  # two workers, a file each at a time: ~80 s instead of ~120 s here

lint: $(VENV)/.installed-test
	$(BIN)/ruff check emulator tests
	$(BIN)/ruff format --check emulator tests

check: $(VENV)/.installed
	$(BIN)/payemu check

openapi: $(VENV)/.installed
	$(BIN)/payemu openapi --output openapi.json

fuzz: $(VENV)/.installed-test  ## schemathesis on the OpenAPI export against a live server (bounded: see tests/fuzz/run.py)
	$(BIN)/python -m tests.fuzz.run $(FUZZ_ARGS)

bench: $(VENV)/.installed-test  ## throughput, p50/p99, memory, cold start (needs wrk: apt-get install wrk)
	$(BIN)/python tests/bench.py

clean:
	rm -rf $(VENV) build dist *.egg-info
