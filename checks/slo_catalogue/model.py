"""One generated SLO, before it becomes OpenSLO: its name, indicator, objective and comment; and the
constants every objective of the file shares (service, window, the DINUM bounds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SERVICE = "anef"
WINDOW = "30d"
AVAILABILITY = 0.99  # DINUM Observatoire: below 99 % is "partiel", from 99 % "optimal"
LATENCY = 0.95  # our assumption: the share of requests held to the Observatoire's page-load bound
LATENCY_MS = 800  # DINUM Observatoire: a page load above 800 ms is "faible"


@dataclass(frozen=True)
class Slo:
    name: str
    display_name: str
    description: str
    labels: dict[str, str]
    sli: str
    """The SLI's name (shared SLIs become ``kind: SLI`` objects, the others stay inline)."""
    ratio: dict[str, Any]
    objective: str
    target: float
    comment: str = ""


def slug(step: str) -> str:
    """A step as an OpenSLO name (RFC 1123): ``address_change.upload`` → ``address-change-upload``."""
    return step.replace("_", "-").replace(".", "-")


def source(steps: tuple[str, ...], **selector: Any) -> dict[str, Any]:
    return {"metricSource": {"type": "anef-harness", "spec": {"steps": list(steps), **selector}}}
