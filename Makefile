# Idempotent set-up: .venv is (re)built only when pyproject.toml or constraints.txt changes.
# constraints.txt pins every package at the version the suite last passed with; update it on purpose
# (`make lock` after upgrading the venv), so a fresh machine installs what was tested.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup lock demo test lint bench device-bundle clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

lock: setup
	$(BIN)/pip freeze --exclude-editable | grep -v '^oldfilm' > constraints.txt

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
