"""OpenSLO v1 documents: the alerting objects (the Google SRE Workbook's four burn-rate alerts),
one SLO's document, and the YAML dump with its comment."""

from __future__ import annotations

from typing import Any

import yaml

from checks.slo import SHORT_WINDOW_ANNOTATION
from checks.slo_catalogue.model import SERVICE, WINDOW, Slo

BURN_RATES = [
    # severity, long window, short window, factor, share of the 30-day budget it consumes
    ("page", "1h", "5m", 14.4, "2 %"),
    ("page", "6h", "30m", 6, "5 %"),
    ("ticket", "1d", "2h", 3, "10 %"),
    ("ticket", "3d", "6h", 1, "10 %"),
]


def obj(kind: str, metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "openslo/v1", "kind": kind, "metadata": metadata, "spec": spec}


def alerting() -> list[tuple[str, dict[str, Any]]]:
    """The notification targets, the four burn-rate conditions and one policy per condition."""
    documents: list[tuple[str, dict[str, Any]]] = [
        (
            "Where alerts go is the operator's choice: these two targets are placeholders for the routing\n"
            "(e.g. Alertmanager receivers named after them); the harness itself notifies no one.",
            obj(
                "AlertNotificationTarget",
                {"name": "anef-on-call"},
                {"target": "page", "description": "Pages the on-call team."},
            ),
        ),
        (
            "",
            obj(
                "AlertNotificationTarget",
                {"name": "anef-ticket-queue"},
                {"target": "ticket", "description": "Opens a ticket."},
            ),
        ),
    ]
    for severity, long, short, factor, budget in BURN_RATES:
        name = f"burn-rate-{severity}-{long}"
        comment = (
            f"{severity}: the error ratio over {long} and over {short} both above {factor} x (1 - target),\n"
            f"i.e. {budget} of the 30-day error budget spent. OpenSLO v1 has no field for the short window of\n"
            "a multi-window alert: the harness reads it from the annotation anef-harness/short-window (1/12 of\n"
            "lookbackWindow when absent). No alertAfter: the alert fires as soon as both windows burn."
        )
        condition = {"kind": "burnrate", "op": "gte", "threshold": factor, "lookbackWindow": long}
        description = f"Burn rate at least {factor} over {long} and {short} ({budget} of the 30-day budget)."
        documents.append(
            (
                comment,
                obj(
                    "AlertCondition",
                    {"name": name, "annotations": {SHORT_WINDOW_ANNOTATION: short}},
                    {"description": description, "severity": severity, "condition": condition},
                ),
            )
        )
    for severity, long, *_ in BURN_RATES:
        target = "anef-on-call" if severity == "page" else "anef-ticket-queue"
        spec = {
            "alertWhenBreaching": True,
            "conditions": [{"conditionRef": f"burn-rate-{severity}-{long}"}],
            "notificationTargets": [{"targetRef": target}],
        }
        comment = (
            "One AlertPolicy per window: OpenSLO v1 allows one condition per policy, so every SLO lists the four."
            if long == "1h"
            else ""
        )
        documents.append((comment, obj("AlertPolicy", {"name": f"alert-{severity}-{long}"}, spec)))
    return documents


def slo_document(slo: Slo, shared: set[str]) -> dict[str, Any]:
    indicator: dict[str, Any]
    if slo.sli in shared:
        indicator = {"indicatorRef": slo.sli}
    else:
        indicator = {
            "indicator": {"metadata": {"name": slo.sli}, "spec": {"ratioMetric": {"counter": True, **slo.ratio}}}
        }
    spec = {
        "description": slo.description,
        "service": SERVICE,
        "budgetingMethod": "Occurrences",
        "timeWindow": [{"duration": WINDOW, "isRolling": True}],
        **indicator,
        "objectives": [{"displayName": slo.objective, "target": slo.target}],
        "alertPolicies": [{"alertPolicyRef": f"alert-{severity}-{long}"} for severity, long, *_ in BURN_RATES],
    }
    return obj("SLO", {"name": slo.name, "displayName": slo.display_name, "labels": slo.labels}, spec)


class _Dumper(yaml.SafeDumper):
    """Indents the items of a list under their key, as people write YAML."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def dump(comment: str, data: dict[str, Any]) -> str:
    lines = "".join(f"# {line}\n" if line else "#\n" for line in comment.splitlines()) if comment else ""
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=110, allow_unicode=True)
    return lines + body
