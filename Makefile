# anef-harness: `make demo` runs the main job, `make test` runs the whole test suite.
# Both set everything up on a fresh machine first (idempotent: only what is missing).
.PHONY: demo test setup lint typecheck unit bench clean

demo: setup
	.venv/bin/anef-harness demo

test: setup
	scripts/test

setup:
	scripts/setup

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: setup
	.venv/bin/mypy

bench: setup
	.venv/bin/anef-harness bench

clean:
	rm -rf .venv var results .deps-stamp .mypy_cache .ruff_cache .pytest_cache
