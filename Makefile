# The README's two commands. `make run`: set up, ingest corpus/, serve on http://127.0.0.1:8000.
# `make test`: set up, then lint, type-check and every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test setup browser lint bench clean

setup: $(STAMP)

# Quiet: one line of progress a step, on stderr. torch first, the CPU wheel pinned in pyproject.toml, so nothing
# pulls a CUDA build.
$(STAMP): pyproject.toml
	@echo "setting up $(VENV): Python packages (a few minutes the first time) ..." >&2
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -qq --upgrade pip
	@$(BIN)/python -m pip install -qq torch==2.13.0
	@$(BIN)/python -m pip install -qq -e '.[dev,ray]'
	@touch $(STAMP)

# The page offers the reranker ("Order") for the questions that ask for it; PQA_RERANK=off make run leaves it out.
run: setup
	@$(BIN)/pqa ingest corpus/
	@PQA_RERANK=$${PQA_RERANK:-ask} $(BIN)/pqa serve --host 127.0.0.1 --port 8000

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get install -y chromium >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y chromium >/dev/null 2>&1)) \
	      || echo "WARNING: could not install chromium; browser tests will be SKIPPED"; \
	  else echo "WARNING: chromium missing and not root; browser tests will be SKIPPED"; fi; }

lint: setup
	$(BIN)/ruff check ingest index service evaluate tests bench
	$(BIN)/ruff format --check ingest index service evaluate tests bench
	$(BIN)/mypy

test: setup browser lint
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/scifact.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
