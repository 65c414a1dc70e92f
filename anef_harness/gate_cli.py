"""``anef-harness gate``: the verdict on a results folder, for CI; ``run`` ends with the same."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from checks.evaluate import Margins, Summary, evaluate, write_summary
from checks.gate import exit_code, write_junit
from checks.rights import DEFAULT_HORIZON_DAYS
from checks.slo import default_slo_path, load_slos
from core.errors import ConfigError

EXIT_USAGE = 2


def judge(
    folder: Path,
    *,
    slo: Path | None = None,
    baseline: Path | None = None,
    junit: Path | None = None,
    margins: Margins | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> Summary:
    """Evaluate a results folder and write its summary.json and JUnit file (default junit.xml)."""
    objectives = load_slos(slo or default_slo_path())
    summary = evaluate(folder, objectives, baseline=baseline, margins=margins, horizon_days=horizon_days)
    write_summary(folder, summary)
    write_junit(summary, junit or folder / "junit.xml")
    return summary


def show(summary: Summary, console: Console) -> None:
    """What CI's log shows: breached SLOs, defects, rights at risk, regressions, the verdict."""
    if summary.rights is not None:
        console.print(
            f"[bold]Rights at risk (projection):[/] {summary.rights.count} synthetic applicant(s) whose renewal "
            f"failed could not file again on time (of {summary.rights.failed_renewals} failed renewals; "
            f"next attempt assumed in {summary.rights.horizon_days} days)"
        )
    breached = summary.breached
    if breached:
        table = Table(title="SLOs breached", title_justify="left", header_style="bold")
        for column in ("SLO", "SLI", "objective", "good/total", "burn rate"):
            table.add_column(column, justify="left" if column == "SLO" else "right")
        for slo in breached:
            table.add_row(
                slo.name, f"{slo.sli:.3%}", f"{slo.objective:.3%}", f"{slo.good}/{slo.total}", f"{slo.burn_rate:.1f}"
            )
        console.print(table)
    met = sum(1 for s in summary.slos if s.met and s.sli is not None)
    console.print(f"SLOs: {met} met, {len(breached)} breached, {sum(1 for s in summary.slos if s.sli is None)} no data")
    for regression in summary.regressions:
        console.print(f"regression: {regression.step} {regression.what} {regression.baseline:g} → {regression.now:g}")
    partial = " (partial results: the run did not end normally)" if summary.partial else ""
    console.print(f"verdict: {summary.verdict}{partial}")


def gate(
    results: Annotated[Path, typer.Argument(help="A campaign's results folder.")],
    slo: Annotated[Path | None, typer.Option(help="OpenSLO file (default: slos/anef.yaml).")] = None,
    baseline: Annotated[Path | None, typer.Option(help="A previous results folder to compare with.")] = None,
    junit: Annotated[Path | None, typer.Option(help="Where to write JUnit XML (default: RESULTS/junit.xml).")] = None,
    max_p95_increase: Annotated[float, typer.Option(help="Relative p95 increase allowed against the baseline.")] = 0.25,
    max_failure_rate_increase: Annotated[
        float, typer.Option(help="Absolute failure-rate increase allowed against the baseline.")
    ] = 0.01,
    horizon_days: Annotated[
        int, typer.Option(help="Days before a failed renewal can be tried again (rights at risk).")
    ] = DEFAULT_HORIZON_DAYS,
) -> None:
    """Judge a campaign: SLOs, defects, regressions; exit 0 pass, 1 fail, 2 bad input."""
    margins = Margins(p95_increase=max_p95_increase, failure_rate_increase=max_failure_rate_increase)
    try:
        summary = judge(results, slo=slo, baseline=baseline, junit=junit, margins=margins, horizon_days=horizon_days)
    except ConfigError as exc:
        typer.echo(f"anef-harness: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    show(summary, Console(highlight=False))
    raise typer.Exit(exit_code(summary))


def register(app: typer.Typer) -> None:
    app.command("gate")(gate)
