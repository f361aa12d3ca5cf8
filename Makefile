# The two commands a newcomer needs: `make run` (install, seed the demo, start) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

## Install, create the demo data on the embedded default (SQLite under ./var) and serve on :8080.
run: install
	$(BIN)/isthmus up

## Install everything the tests need and run the whole suite (SQLite and PostgreSQL).
test: install
	$(BIN)/python -m pytest -n 2 -q

bench: install
	$(BIN)/python bench/odata_read.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
