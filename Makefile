# Two commands matter: `make run` (install and start Handrail on SQLite) and `make check`
# (every check CI runs). Everything is installed into .venv by the project itself.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run check install browser lint typecheck test test-postgres bench clean

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
## With no SLACK_BOT_TOKEN (in the environment or .env), a local Slack comes with it: the
## emulator and its page at http://127.0.0.1:8090 (`handrail sandbox`). With one, real Slack.
run: $(STAMP) workflows.yml
	@if [ -n "$$SLACK_BOT_TOKEN" ] || grep -qs '^SLACK_BOT_TOKEN=.' .env; then \
		exec $(BIN)/handrail serve; \
	else \
		exec $(BIN)/handrail sandbox --demo; \
	fi

## Debian's chromium, which the browser tests drive, and an emoji font so messages look as in
## Slack; installed with apt when we are root, otherwise one line says how.
CHROMIUM := /usr/bin/chromium
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -f $(EMOJI_FONT) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian's chromium and emoji font for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				chromium fonts-noto-color-emoji >/dev/null; \
		else \
			echo "the browser tests need Debian's chromium and emoji font: run 'sudo apt-get install chromium fonts-noto-color-emoji'"; \
		fi; \
	fi

## Lint, type-check and run every test on SQLite and PostgreSQL and in a real browser
## (PostgreSQL and chromium required), then install the client's wheel alone in a fresh
## virtualenv and run the README's example against a real server.
check: $(STAMP) browser
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	HANDRAIL_REQUIRE_POSTGRES=1 HANDRAIL_REQUIRE_BROWSER=1 $(BIN)/pytest -q
	$(BIN)/python client/tests/check_wheel.py

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

## A developer run: PostgreSQL and browser tests are skipped with a message when no server
## answers or no chromium is installed.
test: $(STAMP)
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache .pytest_cache
