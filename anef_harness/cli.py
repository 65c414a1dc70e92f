"""The ``anef-harness`` command line. Only this module exits the process.

Sub-commands are imported when they run (``commands``): judging a results folder needs only the
base install, while ``run``, ``platform`` and the others say which extra they need when it is missing.
"""

from __future__ import annotations

from importlib import metadata
from typing import Annotated

import typer

from anef_harness.commands import Lazy, lazy_group

# Command name → the module whose register(app) adds it, and the extras it needs beyond the base install.
COMMANDS = {
    "run": Lazy("anef_harness.run_cli", ("load", "platform")),
    "demo": Lazy("anef_harness.run_cli", ("load", "platform")),
    "worker": Lazy("anef_harness.worker_cli", ("load",)),
    "locust-operator": Lazy("anef_harness.locust_operator_cli", ("load",)),
    "campaigns": Lazy("anef_harness.campaigns_cli"),
    "gate": Lazy("anef_harness.gate_cli"),
    "score": Lazy("anef_harness.score_cli"),
    "rules": Lazy("anef_harness.rules_cli"),
    "slo": Lazy("anef_harness.slo_cli"),
    "dashboards": Lazy("anef_harness.dashboards_cli"),
    "report": Lazy("anef_harness.report_cli"),
    "history": Lazy("anef_harness.report_cli"),
    "bench": Lazy("anef_harness.bench_cli", ("load", "platform")),
    "platform": Lazy("anef_harness.platform_cli", ("platform",)),
    "population": Lazy("anef_harness.population_cli"),
    "mailbox": Lazy("anef_harness.mailbox_cli", ("platform",)),
}

app = typer.Typer(cls=lazy_group(COMMANDS), no_args_is_help=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"anef-harness {version()}")
        raise typer.Exit(0)


@app.callback()
def harness(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Load and resilience testing harness for the ANEF platform."""


def version() -> str:
    """The installed distribution's version (the source tree's, when run without installing)."""
    try:
        return metadata.version("anef-harness")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def main() -> None:
    app()
