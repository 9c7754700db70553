# Two entry points for a fresh clone: `make run` (dashboard) and `make test`.
# Both create .venv when missing and reinstall when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The data root: $VAE_DATA_DIR when set, else ../shared/data when it holds MNIST, else ./data.
export VAE_DATA_DIR ?= $(if $(wildcard ../shared/data/MNIST),../shared/data,./data)

.PHONY: run test test-floor lint bench checkpoints clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run dashboard/app.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# The lowest versions pyproject.toml allows (every direct dependency at its ">=" floor, pinned
# by tools/floor_constraints.py) in a second venv: the unit and AppTest suites, not the browser.
FLOOR := .venv-floor
FLOOR_STAMP := $(FLOOR)/.installed-stamp

$(FLOOR_STAMP): pyproject.toml tools/floor_constraints.py
	test -x $(FLOOR)/bin/python || $(PYTHON) -m venv $(FLOOR)
	$(FLOOR)/bin/python -m pip install --quiet --upgrade pip
	$(FLOOR)/bin/python tools/floor_constraints.py --extra test --extra ray > $(FLOOR)/constraints.txt
	$(FLOOR)/bin/python -m pip install --quiet -c $(FLOOR)/constraints.txt -e '.[test,ray]'
	$(FLOOR)/bin/python -m pip check
	$(FLOOR)/bin/python tools/floor_constraints.py --extra test --extra ray --check
	touch $(FLOOR_STAMP)

test-floor: $(FLOOR_STAMP)
	$(FLOOR)/bin/ruff check .
	$(FLOOR)/bin/python -m pytest -m "not browser"

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/train_speed.py

# Retrain what ships in checkpoints/ (needs MNIST in $VAE_DATA_DIR).
checkpoints: $(STAMP)
	$(BIN)/vae-explorer train --latent-dims 2 5 10 20 50

clean-venv:
	rm -rf $(VENV) $(FLOOR)
