"""``anef-harness run --output json``: the end of a run as one JSON document on stdout, for machines.

The figures are ``summary.json``'s own models (``checks.summary``), so a script reads the same
names in both; the document adds what only the run knows: its exit code, status and folders.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from anef_harness.conductor import RunResult
from checks.summary import (
    Accounting,
    DefectFigures,
    RightsFigures,
    ShiftFigures,
    SloFigures,
    StepFigures,
)

DOCUMENT_FORMAT = 1  # bumped when a field changes meaning or goes away
MEANINGS = {0: "pass", 1: "fail", 2: "invalid usage", 3: "harness or infrastructure failure, or partial results"}


class RunDocument(BaseModel):
    """What ``--output json`` prints: the verdict, per-step figures, SLOs (thresholds included),
    defects and where the results are. ``verdict`` is null when the run could not be judged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int = DOCUMENT_FORMAT
    campaign: str
    status: str  # complete, partial, interrupted, failed
    verdict: Literal["pass", "fail"] | None
    exit_code: int
    meaning: str
    problem: str | None = None
    results: str
    report: str | None = None
    accounting: Accounting | None = None
    steps: dict[str, StepFigures] = Field(default_factory=dict)
    slos: list[SloFigures] = Field(default_factory=list)
    defects: dict[str, DefectFigures] = Field(default_factory=dict)
    rights_at_risk: RightsFigures | None = None
    shift: ShiftFigures | None = None


def run_document(result: RunResult, campaign: str) -> RunDocument:
    """The document of a finished run (judged or not)."""
    report = result.results / "report.html"
    common = {
        "campaign": campaign,
        "status": result.status,
        "exit_code": result.exit_code,
        "meaning": MEANINGS.get(result.exit_code, "?"),
        "problem": result.problem,
        "results": str(result.results),
        "report": str(report) if report.is_file() else None,
    }
    if result.summary is None:
        return RunDocument(verdict=None, **common)
    summary = result.summary.file()
    return RunDocument(
        verdict=summary.verdict,
        accounting=summary.accounting,
        steps=summary.steps,
        slos=summary.slos,
        defects=summary.defects,
        rights_at_risk=summary.rights_at_risk,
        shift=summary.shift,
        **common,
    )
