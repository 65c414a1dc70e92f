"""Grafana dashboards as code: the SLO overview and the campaign dashboard, as Grafana JSON models.

They are built with grafana-foundation-sdk (panel shapes in ``dashboards.grafana_panels``) from an
SLO file's objectives, and written with Grafana's file-provisioning YAML, or published through
Grafana's HTTP API (``dashboards.publish``). Queries use the metric names of DESIGN.md "Metrics"
and the names and labels of Sloth's rules, which the generated SLO rules follow (what each panel
shows: ``dashboards.grafana_boards``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.builders.dashboard import AnnotationQuery, CustomVariable, Dashboard, QueryVariable
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import VariableOption, VariableRefresh, VariableSort

from checks.slo import Objective
from core.errors import ConfigError
from dashboards.grafana_boards import campaign as campaign_panels
from dashboards.grafana_boards import slo_overview as slo_panels
from dashboards.grafana_panels import Panels, add_panels, dashboard
from dashboards.rules import ids

SLO_FILE, CAMPAIGN_FILE = "anef-slos.json", "anef-campaign.json"
SLO_UID, CAMPAIGN_UID = "anef-slos", "anef-campaign"
# The Grafana folder the dashboards go to, provisioned or published.
FOLDER, FOLDER_UID = "ANEF", "anef-harness"
# Where datasources.yaml points Grafana: a placeholder for a Prometheus on this machine's default
# port; edit the written file (or provision your own data source with the same uid) elsewhere.
PLACEHOLDER_PROMETHEUS_URL = "http://127.0.0.1:9090"
# The value of "All" in every template variable: ".*" also matches an absent label (the defect
# SLOs have no journey label), which ".+" would not.
MATCH_ALL = ".*"
UID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,40}")
_VARIABLE = re.compile(r"\$\{(?P<braced>\w+)(?::[^}]*)?\}|\[\[(?P<old>\w+)(?::[^\]]*)?\]\]|\$(?P<plain>\w+)")


def build_dashboards(
    objectives: Sequence[Objective], *, datasource_uid: str = "prometheus"
) -> dict[str, dict[str, Any]]:
    """File name (``anef-slos.json``, ``anef-campaign.json``) → dashboard JSON model."""
    if not UID_PATTERN.fullmatch(datasource_uid):
        raise ConfigError(
            "--datasource-uid", f"expected a Grafana uid (1 to 40 letters, digits, '-' or '_'), got {datasource_uid!r}"
        )
    return {
        SLO_FILE: _slo_overview(objectives, datasource_uid),
        CAMPAIGN_FILE: _campaign(datasource_uid),
    }


def write_dashboards(
    objectives: Sequence[Objective], out: Path, *, datasource_uid: str = "prometheus", folder: str = FOLDER
) -> list[Path]:
    """Write the dashboards' JSON into ``out`` and Grafana provisioning files into
    ``out/provisioning`` (``dashboards.yaml``: a file provider for ``out`` in ``folder``;
    ``datasources.yaml``: a Prometheus data source with that uid at a placeholder URL)."""
    if not folder.strip():
        raise ConfigError("--folder", "expected a folder name, got an empty one")
    models = build_dashboards(objectives, datasource_uid=datasource_uid)
    provisioning = out / "provisioning"
    files: dict[Path, str] = {
        out / name: json.dumps(model, indent=2, ensure_ascii=False) + "\n" for name, model in models.items()
    }
    files[provisioning / "dashboards.yaml"] = _dashboard_provider(out.resolve(), folder)
    files[provisioning / "datasources.yaml"] = _datasource(datasource_uid)
    try:
        provisioning.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(exc.filename or out), f"cannot write ({exc.strerror})") from None
    return list(files)


def panel_queries(dashboard: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL expr) of every target of every panel, panels inside rows included."""
    found: list[tuple[str, str]] = []
    for panel in dashboard.get("panels") or []:
        found.extend(
            (str(panel.get("title", "")), str(target.get("expr", ""))) for target in panel.get("targets") or []
        )
        found.extend(panel_queries(panel))
    return found


def concrete(expr: str, *, rate_interval: str = "1m", range_: str = "5m", interval: str = "15s") -> str:
    """The expr as Prometheus's HTTP API can run it: Grafana's ``$__rate_interval``, ``$__range``
    and ``$__interval`` replaced by the given durations, every template variable by its All value."""
    builtins = {"__rate_interval": rate_interval, "__range": range_, "__interval": interval}

    def replace(match: re.Match[str]) -> str:
        name = match["braced"] or match["old"] or match["plain"]
        if name.startswith("__"):
            if name not in builtins:
                raise ValueError(f"Grafana variable ${name} has no concrete value here (in {expr!r})")
            return builtins[name]
        return MATCH_ALL

    return _VARIABLE.sub(replace, expr)


# --- the two dashboards ------------------------------------------------------------------------------


def _slo_overview(objectives: Sequence[Objective], datasource_uid: str) -> dict[str, Any]:
    names = [ids(objective).slo for objective in objectives]  # as the rules label them
    journeys = sorted({objective.labels["journey"] for objective in objectives if "journey" in objective.labels})
    board = dashboard(
        "ANEF: SLO overview",
        SLO_UID,
        "Each service-level objective of the SLO file: how far the applicants' experience is from its target "
        "(SLI over the SLO's period), the error budget left and how fast it burns. Fed by the Sloth-style rules "
        "generated from the same file.",
    )
    board.with_variable(_choice("journey", "Journey", journeys))
    board.with_variable(_choice("slo", "SLO", names))
    add_panels(board, slo_panels(Panels(datasource_uid), objectives))
    return _model(board)


def _campaign(datasource_uid: str) -> dict[str, Any]:
    panels = Panels(datasource_uid)
    board = dashboard(
        "ANEF: campaign",
        CAMPAIGN_UID,
        "A campaign as the synthetic applicants lived it: journeys and where they failed, failure rate and latency "
        "per step, time to consistency across the front office / prefecture seam, defects detected, faults the "
        "platform injected, and the gap between what the platform's own metrics say and what applicants live.",
    )
    board.with_variable(
        QueryVariable("journey")
        .label("Journey")
        .datasource(panels.datasource)
        .query("label_values(anef_step_total, journey)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(MATCH_ALL)
        .current(_ALL)
    )
    board.annotation(
        AnnotationQuery()
        .name("Faults injected")
        .datasource(panels.datasource)
        .enable(True)
        .icon_color("red")
        .expr("sum by (fault) (increase(anef_platform_fault_injected_total[$__interval])) > 0")
    )
    add_panels(board, campaign_panels(panels))
    model = _model(board)
    # The SDK has no field for these Prometheus annotation options: name each mark after its fault.
    model["annotations"]["list"][0].update({"titleFormat": "{{fault}}", "tagKeys": "fault", "step": "$__interval"})
    return model


_ALL = VariableOption(selected=True, text="All", value="$__all")


def _choice(name: str, label: str, values: Sequence[str]) -> CustomVariable:
    """A multi-value variable listing the SLO file's values (so the dashboard names every SLO)."""
    return (
        CustomVariable(name)
        .label(label)
        .values(",".join(values))
        .multi(True)
        .include_all(True)
        .all_value(MATCH_ALL)
        .current(_ALL)
    )


def _model(board: Dashboard) -> dict[str, Any]:
    model: dict[str, Any] = json.loads(JSONEncoder().encode(board.build()))
    return model


# --- provisioning files ------------------------------------------------------------------------------


def _dashboard_provider(path: Path, folder: str) -> str:
    provider = {
        "apiVersion": 1,
        "providers": [
            {
                "name": "anef-harness",
                "orgId": 1,
                "folder": folder,
                "folderUid": FOLDER_UID,
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 30,
                "options": {"path": str(path), "foldersFromFilesStructure": False},
            }
        ],
    }
    header = (
        "# Grafana dashboard provisioning (written by anef-harness dashboards build).\n"
        "# options.path is the dashboards' folder on the machine that built them: mount it at the same\n"
        "# path in Grafana's container, or edit it.\n"
    )
    return header + yaml.safe_dump(provider, sort_keys=False, allow_unicode=True)


def _datasource(uid: str) -> str:
    source = {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus (anef-harness)",
                "type": "prometheus",
                "uid": uid,
                "access": "proxy",
                "url": PLACEHOLDER_PROMETHEUS_URL,
                "editable": True,
            }
        ],
    }
    header = (
        "# Grafana data source provisioning (written by anef-harness dashboards build).\n"
        f"# url is a placeholder ({PLACEHOLDER_PROMETHEUS_URL}, Prometheus on this machine): set it to the\n"
        "# Prometheus that scrapes the harness and the platform and loads the generated SLO rules.\n"
    )
    return header + yaml.safe_dump(source, sort_keys=False, allow_unicode=True)
