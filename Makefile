# Two commands matter: `make run` (install and start Handrail on SQLite) and `make check`
# (every check CI runs). Everything is installed into .venv by the project itself.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run check install lint typecheck test test-postgres bench clean

$(STAMP): pyproject.toml client/pyproject.toml sandbox/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ./client -e ./sandbox -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

workflows.yml:
	cp workflows.example.yml workflows.yml
	@echo "created workflows.yml from workflows.example.yml; edit it to describe your workflows"

## Install, migrate and serve the API on 127.0.0.1:8080 with the embedded SQLite store.
run: $(STAMP) workflows.yml
	$(BIN)/handrail serve

## Lint, type-check and run every test on SQLite and PostgreSQL (PostgreSQL required), then
## install the client's wheel alone in a fresh virtualenv and run the README's example.
check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	HANDRAIL_REQUIRE_POSTGRES=1 $(BIN)/pytest -q
	$(BIN)/python client/tests/check_wheel.py

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

## A developer run: PostgreSQL tests are skipped with a message when no server answers.
test: $(STAMP)
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache .pytest_cache
