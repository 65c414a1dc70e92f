"""``anef-harness rules``: Prometheus recording rules and burn-rate alerts from an SLO file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from anef_harness.exits import fail_usage
from checks.slo import default_slo_path, load_slos
from core.errors import ConfigError
from dashboards.rules import render_rules, write_rules


def rules(
    slo_file: Annotated[Path | None, typer.Argument(help="An OpenSLO file (default: slos/anef.yaml).")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the rules to this file (default: print them).")] = None,
) -> None:
    """Recording rules and multi-window, multi-burn-rate alerts, with Sloth's names and labels."""
    source = slo_file or default_slo_path()
    try:
        objectives = load_slos(source)
        if out is None:
            typer.echo(render_rules(objectives, str(source)), nl=False)
            return
        written = write_rules(objectives, out, str(source))
    except ConfigError as exc:
        fail_usage(str(exc))
    except OSError as exc:
        fail_usage(f"{out}: cannot write the rules ({exc.strerror})")
    typer.echo(f"{len(objectives)} SLO(s) → {written} (check with: promtool check rules {written})")


def register(app: typer.Typer) -> None:
    app.command("rules")(rules)
