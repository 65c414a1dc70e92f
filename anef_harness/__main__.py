"""``python -m anef_harness`` runs the CLI."""

from anef_harness.cli import main

main()
