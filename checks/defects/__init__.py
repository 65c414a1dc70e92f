"""Defects: each documented defect, security weakness and generic fault declared once, with its
detector, whether it gates, its ledger rule, its wording in both languages and its SLO hook.

Owns: the declarations (``declaration``), the detectors' inputs and outputs (``detection``,
``reading``), the declared defects (``documented``, ``security``, ``generic``) and ``Findings``.
Must not: read the platform's ledger (DESIGN.md, principle 3: detection uses only what applicants
and agents see), import ``dashboards`` or the platform, or keep a second list of defects anywhere:
the gating set, scoring rules, report wording and SLOs are derived from ``DETECTORS``.
"""

from __future__ import annotations

# isort: off
# Declared on import, in the order the registry keeps (the score and summaries list defects in it).
from checks.defects import documented  # noqa: F401
from checks.defects import security  # noqa: F401
from checks.defects import generic  # noqa: F401

# isort: on
from checks.defects.declaration import (
    DETECTORS,
    Defect,
    DetectorFunction,
    DrillPlan,
    Grouping,
    Objective,
    SloHook,
    Steps,
    Unit,
    Words,
    catalogue_gaps,
    defect,
    gating_defects,
    get_detector,
    missing,
)
from checks.defects.detection import DEFAULT_SETTINGS, Detection, DetectorSettings, Evidence, Symptom, evidence_of
from checks.defects.findings import DETECTOR_PREFILTER, Findings, Incident, incident_keys
from checks.defects.reading import FAILED
from checks.defects.rule import DEFAULT_RULE, Rule, during

__all__ = [
    "DEFAULT_RULE",
    "DEFAULT_SETTINGS",
    "DETECTORS",
    "DETECTOR_PREFILTER",
    "FAILED",
    "Defect",
    "Detection",
    "DetectorFunction",
    "DetectorSettings",
    "DrillPlan",
    "Evidence",
    "Findings",
    "Grouping",
    "Incident",
    "Objective",
    "Rule",
    "SloHook",
    "Steps",
    "Symptom",
    "Unit",
    "Words",
    "catalogue_gaps",
    "defect",
    "during",
    "evidence_of",
    "gating_defects",
    "get_detector",
    "incident_keys",
    "missing",
]
