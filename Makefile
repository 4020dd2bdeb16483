# One entry point for every developer task. `make serve` and `make test` work from a fresh clone:
# they create the virtualenv, install dependencies and tools, and the service applies migrations.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BUF := tools/buf/node_modules/.bin/buf

.PHONY: serve test lint breaking protos docs lock bench clean

LOCK_FLAGS := --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-trusted-host \
	--no-emit-find-links

# Versions come from requirements-dev.lock (`make lock` regenerates it from pyproject.toml).
$(STAMP): pyproject.toml requirements-dev.lock $(wildcard gen/*/__init__.py)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements-dev.lock -e '.[dev]'
	touch $(STAMP)

$(BUF): tools/buf/package.json tools/buf/package-lock.json
	cd tools/buf && npm ci --silent --no-audit --no-fund
	touch $(BUF)

## Start the service on the embedded SQLite default (./integrations.db), listening on 127.0.0.1:50051.
serve: $(STAMP)
	$(BIN)/integrations-service serve $(ARGS)

## Regenerate the Python stubs and descriptor set in gen/, and docs/API.md, from protos/.
protos: $(STAMP)
	$(BIN)/python scripts/gen_protos.py
	$(BIN)/python scripts/gen_api_docs.py

## Regenerate docs/API.md from the protos' comments and docs/api_conventions.md.
docs: $(STAMP)
	$(BIN)/python scripts/gen_api_docs.py

## Pin every dependency: requirements.lock (the image) and requirements-dev.lock (.venv, CI),
## resolved from pyproject.toml; `make lock ARGS=--upgrade` moves them to the newest allowed.
lock: $(STAMP)
	$(BIN)/pip-compile $(LOCK_FLAGS) $(ARGS) --output-file requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) $(ARGS) --extra dev --output-file requirements-dev.lock pyproject.toml

## Static checks: buf lint, ruff, mypy, hadolint (the Dockerfile).
lint: $(STAMP) $(BUF)
	$(BUF) lint
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

## buf breaking: protos/ against the previous commit (BUF_BREAKING_AGAINST=<ref> to change it).
breaking: $(BUF)
	BUF=$(BUF) scripts/buf_breaking.sh

## Everything CI runs: lint, then the whole test suite (SQLite and PostgreSQL).
test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

## Benchmarks: prints ratios measured in the same run (see tests/bench/README.md).
bench: $(STAMP)
	$(BIN)/python -m tests.bench $(ARGS)

clean:
	rm -rf $(VENV) tools/buf/node_modules tests/node/node_modules
