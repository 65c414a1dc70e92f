"""``anef-harness gate``: the verdict on a results folder, for CI; ``run`` ends with the same."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from anef_harness.baseline import BaselineOption, choose_baseline
from anef_harness.exits import ExitCode, fail, fail_usage
from anef_harness.verdict import show_verdict
from checks.gate import decide
from checks.judge import judge
from checks.rights import DEFAULT_HORIZON_DAYS
from core.errors import ConfigError


def gate(
    results: Annotated[Path, typer.Argument(help="A campaign's results folder.")],
    slo: Annotated[Path | None, typer.Option(help="OpenSLO file (default: slos/anef.yaml).")] = None,
    baseline: BaselineOption = None,
    junit: Annotated[Path | None, typer.Option(help="Where to write JUnit XML (default: RESULTS/junit.xml).")] = None,
    horizon_days: Annotated[
        int, typer.Option(help="Days before a failed renewal can be tried again (rights at risk).")
    ] = DEFAULT_HORIZON_DAYS,
) -> None:
    """Judge a campaign: SLOs, defects, shifts; exit 0 pass, 1 fail, 2 bad input, 3 partial results."""
    try:
        summary = judge(
            results,
            slo=slo,
            baseline=baseline,
            junit=junit,
            horizon_days=horizon_days,
            shift_baseline=choose_baseline(results, baseline),
        )
    except ConfigError as exc:
        fail_usage(exc)
    show_verdict(summary, Console(highlight=False))
    decision = decide(summary)
    if decision.code == ExitCode.INFRA:  # after the verdict and its tables: what was recorded is still shown
        fail(decision.reason, decision.code)
    raise typer.Exit(decision.code)


def register(app: typer.Typer) -> None:
    app.command("gate")(gate)
