"""The verdict as CI's log shows it, after ``anef-harness gate`` and at the end of ``run``."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from anef_harness.progress import print_whole
from checks.evaluate import Summary


def show_verdict(summary: Summary, console: Console) -> None:
    """What CI's log shows: breached SLOs, defects, rights at risk, shifts, the verdict."""
    if summary.rights is not None:
        console.print(
            f"[bold]Rights at risk (projection):[/] {summary.rights.count} synthetic applicant(s) whose renewal "
            f"failed could not file again on time (of {summary.rights.failed_renewals} failed renewals; "
            f"next attempt assumed in {summary.rights.horizon_days} days)"
        )
    breached = summary.breached
    if breached:
        table = Table(title="SLOs breached", title_justify="left", header_style="bold")
        table.add_column("SLO", overflow="fold")  # names wrap; numbers are never cut (print_whole)
        for column in ("SLI", "objective", "good/total", "burn rate"):
            table.add_column(column, justify="right", no_wrap=True)
        for slo in breached:
            table.add_row(
                slo.name, f"{slo.sli:.3%}", f"{slo.objective:.3%}", f"{slo.good}/{slo.total}", f"{slo.burn_rate:.1f}"
            )
        print_whole(console, table)
    met = sum(1 for s in summary.slos if s.met and s.sli is not None)
    console.print(f"SLOs: {met} met, {len(breached)} breached, {sum(1 for s in summary.slos if s.sli is None)} no data")
    shift = summary.shift
    console.print(f"shift: {shift.headline()}", soft_wrap=True)  # one line, however long, for grep and CI logs
    for check in shift.flagged:
        console.print(f"shift flagged ({check.what.replace('_', ' ')}): {check.line(shift.bounds)}", soft_wrap=True)
    # The verdict of a run that did not end normally is shown, but is not one: run and gate exit 3.
    partial = f" (partial results: the run is {summary.status}; not a verdict)" if summary.partial else ""
    console.print(f"verdict: {summary.verdict}{partial}")
