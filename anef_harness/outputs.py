"""What a campaign leaves beside its summary: the Prometheus rules and Grafana dashboards of its
SLOs, its entry in the history database, ``report.html``, Prometheus's scrape targets and the
platform's fault ledger.

Each is written on its own: one that fails is a warning in the manifest, never a lost result.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console

from anef_harness.campaign import Campaign
from anef_harness.manifest import atomic_write
from checks.slo import default_slo_path, load_slos
from core.errors import HarnessError, TargetError
from dashboards import history
from dashboards.grafana import write_dashboards
from dashboards.live import LiveMetrics
from dashboards.publish import dashboards_from, publish
from dashboards.report import write_report
from dashboards.rules import write_rules
from drills.admin import AdminClient

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


def scrape_targets(results: Path, campaign: Campaign, url: str, live: LiveMetrics | None) -> None:
    """``prometheus-targets.json``: the run's endpoints for Prometheus's file-based discovery
    (``file_sd_configs``), labelled with the campaign and the run."""
    labels = {"campaign": campaign.name, "run_id": results.name}
    groups = [{"targets": [urlsplit(url).netloc], "labels": {**labels, "anef_component": "platform"}}]
    if campaign.target != "embedded":
        groups = []  # a remote platform's /metrics is the operator's to scrape
    if live is not None:
        groups.append({"targets": [f"{live.host}:{live.port}"], "labels": {**labels, "anef_component": "harness"}})
    atomic_write(results / "prometheus-targets.json", json.dumps(groups, indent=1))


def keep_ledger(admin: AdminClient, results: Path, console: Console) -> None:
    """The platform's ledger of injected faults, kept for scoring (never for detection)."""
    try:
        ledger = admin.full_ledger()
    except TargetError as exc:
        console.print(f"[yellow]warning:[/] could not fetch the fault ledger: {exc}")
        return
    (results / "ledger.json").write_text(ledger.model_dump_json(indent=1), encoding="utf-8")
