# Idempotent set-up: .venv is (re)built only when pyproject.toml changes.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench device-bundle clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

demo: setup
	$(BIN)/python -m oldfilm.demo

test: setup
	bash scripts/install_browser.sh   # Chromium for the web app's browser test
	OMP_NUM_THREADS=2 $(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check oldfilm tests benchmarks

bench: setup
	$(BIN)/oldfilm bench --quick

# what a lent GPU machine needs to train (it reaches no registry): see scripts/device_train.sh
device-bundle: setup
	PY=$(BIN)/python scripts/device_bundle.sh $(RUN)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
