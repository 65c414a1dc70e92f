"""The ``anef-harness`` command line. Only this module exits the process.

Sub-commands are imported when they run (``commands``): judging a results folder needs only the
base install, while ``run``, ``platform`` and the others say which extra they need when it is missing.
"""

from __future__ import annotations

import typer

from anef_harness.commands import Lazy, lazy_group

# Command name → the module whose register(app) adds it, and the extras it needs beyond the base install.
COMMANDS = {
    "run": Lazy("anef_harness.run_cli", ("load", "platform")),
    "demo": Lazy("anef_harness.run_cli", ("load", "platform")),
    "gate": Lazy("anef_harness.gate_cli"),
    "score": Lazy("anef_harness.score_cli"),
    "rules": Lazy("anef_harness.rules_cli"),
    "dashboards": Lazy("anef_harness.dashboards_cli"),
    "report": Lazy("anef_harness.report_cli"),
    "history": Lazy("anef_harness.report_cli"),
    "bench": Lazy("anef_harness.bench_cli", ("load", "platform")),
    "platform": Lazy("anef_harness.platform_cli", ("platform",)),
    "population": Lazy("anef_harness.population_cli"),
    "mailbox": Lazy("anef_harness.mailbox_cli", ("platform",)),
}

app = typer.Typer(cls=lazy_group(COMMANDS), no_args_is_help=True)


@app.callback()
def harness() -> None:
    """Load and resilience testing harness for the ANEF platform."""


def main() -> None:
    app()
