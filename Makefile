# The two commands of the README. Both run the idempotent set-up first.
.PHONY: run test setup lint format

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/python app.py

test: setup lint
	.venv/bin/python -m pytest -n 2 --dist loadgroup

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .
