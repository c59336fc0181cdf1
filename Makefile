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

# WireMock, what the bench compares against: the npm package's jar, pinned by tests/bench/package-lock.json.
# npm dates the jar 1985, hence the touch (else every run would reinstall it).
BENCH_JAR := tests/bench/node_modules/wiremock/build/wiremock-standalone-3.13.2.jar

$(BENCH_JAR): tests/bench/package.json tests/bench/package-lock.json
	cd tests/bench && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

bench: $(VENV)/.installed-test $(BENCH_JAR)  ## payemu vs WireMock vs bare Flask (needs wrk, java, npm; ARGS="--scale" etc.)
	$(BIN)/python tests/bench.py $(ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info
