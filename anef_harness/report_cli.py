"""``anef-harness report`` (the campaign's HTML report) and ``anef-harness history`` (past runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from anef_harness.exits import fail_usage
from checks.judge import judge
from core.errors import ConfigError
from dashboards.history import HistoryRow, database, runs
from dashboards.i18n import LANGUAGES
from dashboards.report import write_report_to
from scenarios.manifest import conductor_alive, read_manifest


def report(
    results: Annotated[Path, typer.Argument(help="A judged results folder (with summary.json).")],
    lang: Annotated[str, typer.Option(help=f"Language of the report: {', '.join(LANGUAGES)}.")] = "fr",
    out: Annotated[Path | None, typer.Option(help="Where to write it (default: RESULTS/report.html).")] = None,
    history: Annotated[
        Path | None, typer.Option(help="History database to compare with (default: RESULTS/../history.sqlite).")
    ] = None,
) -> None:
    """Write the campaign's self-contained HTML report and print its path."""
    if lang not in LANGUAGES:  # checked here so the refusal names the option
        fail_usage(f"--lang: expected one of {', '.join(LANGUAGES)}, got {lang!r}")
    try:
        if _left_by_a_killed_harness(results):
            typer.echo(
                f"{results}: no summary.json (the harness stopped before its end): judging what it recorded", err=True
            )
            judge(results)
        path = write_report_to(out or results / "report.html", results, lang=lang, history=history)
    except ConfigError as exc:
        fail_usage(str(exc))
    except OSError as exc:
        fail_usage(f"{exc.filename or out}: cannot write the report ({exc.strerror})")
    typer.echo(str(path))


def _left_by_a_killed_harness(results: Path) -> bool:
    """A results folder whose harness was killed before it could judge: no summary, and a
    manifest that still says running while its harness is gone."""
    if (results / "summary.json").is_file():
        return False
    manifest = read_manifest(results)  # missing or unreadable: not a results folder, the report says so
    return manifest.status == "running" and not conductor_alive(manifest)


def history_command(
    root: Annotated[Path, typer.Option(help="The folder holding results folders and history.sqlite.")] = Path(
        "results"
    ),
    campaign: Annotated[str | None, typer.Option(help="Only the runs of this campaign.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many runs (newest first).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of a table.")] = False,
) -> None:
    """Recorded campaign runs with their key figures, newest first."""
    try:
        found = runs(root, campaign, limit)
    except ConfigError as exc:
        fail_usage(str(exc))
    if as_json:
        typer.echo(json.dumps([row.to_json() for row in found], indent=1, ensure_ascii=False))
        return
    if not found:
        which = f" of campaign {campaign!r}" if campaign else ""
        typer.echo(f"no run{which} recorded in {database(root)}")
        return
    Console(highlight=False).print(history_table(found))


def history_table(rows: list[HistoryRow]) -> Table:
    table = Table(title="Campaign history (newest first)", title_justify="left", header_style="bold")
    table.add_column("run")
    table.add_column("campaign")
    table.add_column("started (UTC)")
    table.add_column("status")
    table.add_column("verdict")
    for name in ("steps", "failure rate", "p95", "SLOs met", "SLOs breached", "defects", "rights at risk"):
        table.add_column(name, justify="right")
    for row in rows:
        f = row.figures
        table.add_row(
            row.run,
            row.campaign,
            (row.started or "")[:19].replace("T", " "),
            row.status,
            "[green]pass[/]" if row.verdict == "pass" else "[red]fail[/]",
            f"{f.steps:,}",
            f"{f.failure_rate:.2%}",
            f"{f.p95_ms:.0f} ms" if f.p95_ms is not None else "—",
            str(f.slos_met),
            f"[red]{f.slos_breached}[/]" if f.slos_breached else "0",
            f"[red]{f.defects}[/]" if f.defects else "0",
            "—" if f.rights_at_risk is None else str(f.rights_at_risk),
        )
    return table


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("history")(history_command)
