# anef-harness: `make demo` runs the main job, `make test` runs the whole test suite.
# Both set everything up on a fresh machine first (idempotent: only what is missing).
# The demo shows defects on purpose: it prints the verdict "fail" and exits 0 once the campaign
# ran and was judged (3 if the harness failed), so make stops only on a real failure.
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
