"""``anef-harness slo check FILE``: an SLO file checked on its own, before a campaign or ``rules`` uses it.

Exit 0 with one line saying what the file holds; exit 2 with the one-line error (``FILE:LINE: …``)
that a campaign, the gate or ``rules`` would give.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from anef_harness.exits import fail_usage
from checks.slo import HARNESS_SOURCE, SloFile, load_slo_file
from core.errors import ConfigError
from dashboards.rules import build_rules

app = typer.Typer(help="SLO files (OpenSLO v1).", no_args_is_help=True)


@app.command("check")
def check(slo_file: Annotated[Path, typer.Argument(help="An OpenSLO v1 file.")]) -> None:
    """Validate an SLO file alone: OpenSLO v1, what the harness supports, the Prometheus rules it makes."""
    try:
        loaded = load_slo_file(slo_file)
        rules = build_rules(loaded.objectives, str(slo_file))
    except ConfigError as exc:
        fail_usage(exc)
    count = sum(len(group["rules"]) for group in rules["groups"])
    typer.echo(f"{slo_file}: {summary(loaded)}; {_plural(count, 'Prometheus rule')}")


def summary(loaded: SloFile) -> str:
    """What the file holds, in words: its SLOs, what the harness evaluates, its alerting."""
    slos = loaded.kinds.get("SLO", 0)
    parts = [f"valid OpenSLO v1, {_plural(slos, 'SLO')}"]
    evaluated = len({objective.name.split("/")[0] for objective in loaded.objectives})
    if evaluated:
        parts.append(
            f"{_plural(len(loaded.objectives), 'objective')} of {_plural(evaluated, 'SLO')} "
            f"on the harness's step events ({HARNESS_SOURCE})"
        )
    if loaded.external:
        sources = ", ".join(dict.fromkeys(source for slo in loaded.external for source in slo.sources))
        parts.append(
            f"{_plural(len(loaded.external), 'SLO')} on other tools' metrics ({sources}), valid but not "
            "evaluated by the harness nor turned into rules"
        )
    severities = dict.fromkeys(a.severity for o in loaded.objectives for a in o.burn_rate_alerts)
    conditions = loaded.kinds.get("AlertCondition", 0)
    if severities:
        parts.append(f"burn-rate alerts of severity {', '.join(severities)}")
    elif conditions:
        parts.append(_plural(conditions, "alert condition"))
    others = [(kind, loaded.kinds.get(kind, 0)) for kind in ("SLI", "Service", "DataSource")]
    listed = [_plural(n, kind) for kind, n in others if n]
    if listed:
        parts.append(" and ".join(listed) if len(listed) < 3 else ", ".join(listed))
    return "; ".join(parts)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="slo")
