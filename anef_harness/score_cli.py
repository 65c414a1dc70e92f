"""``anef-harness score RESULTS``: how well the harness caught the faults the platform injected."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from anef_harness.exits import fail_usage
from checks.score import DefectScore, Score, score, write_score
from core.errors import ConfigError


def score_command(
    results: Annotated[Path, typer.Argument(help="A campaign's results folder (with events/ and ledger.json).")],
) -> None:
    """Score the detectors against the platform's fault ledger; writes RESULTS/score.json."""
    try:
        computed = score(results)
        path = write_score(results, computed)
    except ConfigError as exc:
        fail_usage(exc)
    console = Console()
    console.print(score_table(computed))
    console.print(f"score: {path}")


def score_table(computed: Score) -> Table:
    table = Table(title=f"{computed.campaign}: detection against the fault ledger")
    table.add_column("defect")
    columns = ("injected", "observable", "detected", "recall", "unobservable", "unwatched", "false")
    for name in (*columns, "rate est. / injected", "est. 95 % CI", "realized", "first detection"):
        table.add_column(name, justify="right")
    for defect in computed.defects.values():
        unobservable = sum(defect.unobservable.values())
        table.add_row(
            defect.defect,
            str(defect.injected),
            str(defect.observable),
            str(defect.matched),
            _recall(defect.recall_observable),
            str(unobservable),
            f"[red]{defect.unwatched}[/]" if defect.unwatched else "0",
            f"[red]{defect.false_detections}[/]" if defect.false_detections else "0",
            f"{_rate(defect.estimated_rate)} / {_injected_rate(defect)}",
            _interval(defect),
            _rate(defect.realized_rate),
            f"{defect.time_to_first_detection_s:.1f} s" if defect.time_to_first_detection_s is not None else "—",
        )
    table.caption = (
        "recall: of the observable firings (an attempt of the harness acted on or watched what the fault hit); "
        "unobservable: no watch could end before the load stopped; unwatched: the harness acted and did not look "
        "(its blind spot, never excused); realized: the platform's firings over the events it drew for, the rate "
        "it really injected at (a configured rate is a probability)"
    )
    return table


def _recall(recall: float | None) -> str:
    if recall is None:
        return "—"
    text = f"{recall:.0%}"
    return text if recall >= 1 else f"[red]{text}[/]"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def _interval(defect: DefectScore) -> str:
    """The estimate's 95 % interval, red when the configured rate lies outside it."""
    if defect.estimated_rate_ci is None:
        return "—"
    low, high = defect.estimated_rate_ci
    text = f"{low:.2%}–{high:.2%}"
    configured = defect.injected_rate
    return f"[red]{text}[/]" if configured is not None and not low <= configured <= high else text


def _injected_rate(defect: DefectScore) -> str:
    if defect.injected_rate is None:
        return "off" if defect.injected_rate_note == "not configured" else defect.injected_rate_note or "—"
    return _rate(defect.injected_rate)


def register(app: typer.Typer) -> None:
    app.command("score")(score_command)
