# The README's commands. Each runs the idempotent set-up first.
.PHONY: run test desktop setup setup-test lint format

setup:
	@bash scripts/setup.sh

setup-test:
	@bash scripts/setup.sh test

run: setup
	.venv/bin/python app.py

test: setup-test lint
	.venv/bin/python -m pytest -n 2 --dist loadgroup

# the studio in its own window (Chromium's application mode), after installing its menu entry and icon
desktop: setup
	@bash scripts/desktop_entry.sh
	.venv/bin/circuit-studio studio --desktop

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .
