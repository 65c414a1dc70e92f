"""What the terminal shows: live per-step counts and failure rates, and the final table."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Console
from rich.table import Table

from checks.summary import StepFigures

FAILURE_STYLE = "bold red"


def step_table(rows: Mapping[str, StepFigures], *, title: str, elapsed: float | None = None) -> Table:
    """One row per step: total, ok, each failing outcome seen, failure rate, p50/p95/p99."""
    failing = sorted({o for s in rows.values() for o, n in s.outcomes.items() if n and o != "ok"})
    caption = f"{elapsed:.0f} s" if elapsed is not None else None
    table = Table(title=title, caption=caption, title_justify="left", header_style="bold")
    table.add_column("step", no_wrap=True, min_width=30)
    for column in ("total", "ok", *failing, "fail %", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="right")
    for name, step in rows.items():
        style = FAILURE_STYLE if step.failure_rate > 0 else None
        table.add_row(
            name,
            str(step.total),
            str(step.outcomes["ok"]),
            *(str(step.outcomes[o]) if step.outcomes[o] else "" for o in failing),
            f"{step.failure_rate * 100:.1f}",
            f"{step.p50_ms:.0f}",
            f"{step.p95_ms:.0f}",
            f"{step.p99_ms:.0f}",
            style=style,
        )
    return table


def console(*, quiet: bool = False, stderr: bool = True) -> Console:
    """Live progress goes to stderr, the final report to stdout (so it can be piped)."""
    return Console(stderr=stderr, quiet=quiet, highlight=False)
