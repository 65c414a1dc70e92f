"""Scoring the harness: what the detectors found, against what the platform's ledger says it injected.

Owns the only reading of ``ledger.json`` (``ledger``; DESIGN.md, principle 3: the ledger scores, it
never detects), the pass over the events (``observed``), the matching of firings to incidents under
each defect's declared rule (``matching``), the configured rates (``rates``) and the score itself
(``table``): per defect id, ledger firings (injected), incidents detected, firings matched to an
incident, recall, incidents that no firing explains (false detections), the estimated rate
(incidents over eligible events, as the harness measures it) against the configured rate, and the
time from the first firing to the first matching detection.

Must not: feed the ledger back into detection or the verdict, import ``dashboards`` or the
platform, or keep rules of its own (they come from the defect declarations).
"""

from __future__ import annotations

from checks.score.ledger import Firing, read_ledger
from checks.score.matching import RULES, Context, Index, compatible, match, route_named, rule_of
from checks.score.observed import Observed, eligible, observe
from checks.score.rates import Configured, configured_rates
from checks.score.table import SCORE_FILE, SLACK_S, DefectScore, Score, score, write_score

__all__ = [
    "RULES",
    "SCORE_FILE",
    "SLACK_S",
    "Configured",
    "Context",
    "DefectScore",
    "Firing",
    "Index",
    "Observed",
    "Score",
    "compatible",
    "configured_rates",
    "eligible",
    "match",
    "observe",
    "read_ledger",
    "route_named",
    "rule_of",
    "score",
    "write_score",
]
