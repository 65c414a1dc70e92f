"""What a campaign leaves beside its summary: the Prometheus rules and Grafana dashboards of its
SLOs, its entry in the history database, and ``report.html``.

Each is written on its own: one that fails is a warning in the manifest, never a lost result.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from checks.slo import default_slo_path, load_slos
from core.errors import HarnessError
from dashboards import history
from dashboards.grafana import write_dashboards
from dashboards.publish import dashboards_from, publish
from dashboards.report import write_report
from dashboards.rules import write_rules

RULES_FILE = "prometheus-rules.yaml"
DASHBOARDS_DIR = "grafana"
REPORT_FILE = "report.html"
TOKEN_VARIABLE = "GRAFANA_TOKEN"  # noqa: S105 - the name of the variable, not a token


def _publish(folder: Path, url: str) -> None:
    # The campaign's allowlist was checked when it was loaded (Campaign: outputs.grafana).
    publish(dashboards_from(folder), url=url, token=os.environ.get(TOKEN_VARIABLE) or None, allow_remote=True)


def write_outputs(
    results: Path, slo: Path | None, lang: str, warn: Callable[[str], None], *, grafana: str | None = None
) -> Path | None:
    """Rules, dashboards, history and report for a judged results folder; the report's path.
    With ``grafana`` (its URL), the dashboards are published there too: Grafana down is a warning."""
    source = slo or default_slo_path()
    root = results.parent  # the results root: the folder that holds the campaigns' folders

    def attempt(what: str, action: Callable[[], object]) -> bool:
        try:
            action()
        except (HarnessError, OSError) as exc:
            warn(f"{what}: {exc}")
            return False
        return True

    def artefacts() -> None:
        objectives = load_slos(source)
        attempt("Prometheus rules not written", lambda: write_rules(objectives, results / RULES_FILE, str(source)))
        written = attempt(
            "Grafana dashboards not written", lambda: write_dashboards(objectives, results / DASHBOARDS_DIR)
        )
        if written and grafana is not None:
            attempt("Grafana dashboards not published", lambda: _publish(results / DASHBOARDS_DIR, grafana))

    attempt("SLO file not readable for the rules and dashboards", artefacts)
    attempt(f"not recorded in the history {history.database(root)}", lambda: history.record(root, results))
    report = results / REPORT_FILE
    if attempt("report.html not written", lambda: write_report(results, lang=lang, history=history.database(root))):
        return report
    return None
