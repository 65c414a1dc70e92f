"""Judging a campaign: per-step figures, SLOs with error budgets, the journey funnel, defects,
rights at risk, regressions against a baseline, and the verdict — written as ``summary.json``.

One function, ``evaluate``, reads a results folder (``checks.store.Results``) and returns a
``Summary``; the gate, ``anef-harness run`` and the report all use it, so they never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from checks.defects import Findings, gating_defects
from checks.rights import DEFAULT_HORIZON_DAYS, RightsAtRisk, rights_at_risk
from checks.slo import Objective
from checks.store import Quantiles, Results
from core.errors import ConfigError
from scenarios.campaign_file import load_scenario
from scenarios.events import Outcome
from scenarios.journeys import load_all, watch_steps

OUTCOMES = [o.value for o in Outcome]
# Detectors see every failed attempt and every attempt slow enough to matter for latency rules.
DETECTOR_PREFILTER = "outcome <> 'ok' OR duration_ms >= 1000"
# The documented ANEF defects (DESIGN.md's catalogue) and the security weaknesses: one detection
# fails the gate. Generic faults (errors, timeouts, latency…) are reported, and judged through the
# SLOs and their error budgets. Derived from the defect declarations (``gating=True``).
GATING_DEFECTS = gating_defects()


@dataclass(frozen=True)
class Margins:
    """How much worse than the baseline a step may get before the gate calls it a regression."""

    p95_increase: float = 0.25  # relative: 0.25 = p95 up to 25 % slower
    p95_floor_ms: float = 20.0  # absolute slack, so that a 4 ms → 6 ms step is not a regression
    failure_rate_increase: float = 0.01  # absolute: one point of failure rate


@dataclass(frozen=True)
class SloResult:
    name: str
    display_name: str
    objective: float
    good: int
    total: int

    @property
    def sli(self) -> float | None:
        return self.good / self.total if self.total else None

    @property
    def burn_rate(self) -> float | None:
        """How fast the campaign spent the error budget: 1 = exactly the budget, 14.4 = a page."""
        sli = self.sli
        return None if sli is None else (1.0 - sli) / (1.0 - self.objective)

    @property
    def met(self) -> bool:
        sli = self.sli
        return sli is None or sli >= self.objective

    def to_json(self) -> dict[str, Any]:
        burn = self.burn_rate
        return {
            "name": self.name,
            "display_name": self.display_name,
            "objective": self.objective,
            "sli": None if self.sli is None else round(self.sli, 6),
            "met": self.met,
            "good": self.good,
            "total": self.total,
            "error_budget_consumed": None if burn is None else round(burn, 4),
            "burn_rate": None if burn is None else round(burn, 4),
        }


@dataclass(frozen=True)
class Regression:
    step: str
    what: str  # "p95" or "failure_rate"
    baseline: float
    now: float

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "what": self.what, "baseline": round(self.baseline, 4), "now": round(self.now, 4)}


@dataclass
class Summary:
    campaign: str
    status: str
    partial: bool
    steps: dict[str, dict[str, Any]]
    journeys: dict[str, dict[str, Any]]
    slos: list[SloResult]
    findings: Findings
    rights: RightsAtRisk | None
    regressions: list[Regression] = field(default_factory=list)
    first_time: float | None = None
    consistency: dict[str, dict[str, float]] = field(default_factory=dict)
    duplicates: int = 0  # attempts recorded with more than one outcome: must stay 0

    @property
    def accounting(self) -> dict[str, int]:
        """Attempts started against outcomes recorded, over all steps: they must be equal."""
        return {
            "attempted": sum(int(s.get("attempted", s["total"])) for s in self.steps.values()),
            "outcomes": sum(int(s["total"]) for s in self.steps.values()),
            "unfinished": sum(int(s.get("unfinished", 0)) for s in self.steps.values()),
            "withdrawn": sum(int(s.get("withdrawn", 0)) for s in self.steps.values()),
            "duplicates": self.duplicates,
        }

    @property
    def breached(self) -> list[SloResult]:
        return [s for s in self.slos if not s.met]

    @property
    def defects(self) -> list[str]:
        """The gating defects detected."""
        return sorted(d for d, n in self.findings.counts.items() if n and d in GATING_DEFECTS)

    @property
    def verdict(self) -> str:
        return "fail" if self.breached or self.defects or self.regressions else "pass"

    def to_json(self) -> dict[str, Any]:
        origin = self.first_time or 0.0
        return {
            "campaign": self.campaign,
            "status": self.status,
            "partial": self.partial,
            "verdict": self.verdict,
            "accounting": self.accounting,
            "steps": self.steps,
            "journeys": self.journeys,
            "slos": [s.to_json() for s in self.slos],
            "defects": {
                defect: {
                    "count": self.findings.incidents.get(defect, count),
                    "symptoms": count,
                    "gating": defect in GATING_DEFECTS,
                    "first_seen_s": round(self.findings.first_seen[defect] - origin, 3),
                    "samples": self.findings.samples.get(defect, []),
                }
                for defect, count in self.findings.counts.most_common()
            },
            "time_to_consistency": self.consistency,
            "rights_at_risk": self.rights.to_json() if self.rights is not None else None,
            "regressions": [r.to_json() for r in self.regressions],
        }


def evaluate(
    folder: Path,
    objectives: Sequence[Objective],
    *,
    baseline: Path | None = None,
    margins: Margins | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> Summary:
    """Judge one results folder."""
    with Results(folder) as results:
        steps = step_figures(results)
        duplicates = sum(figures[3] for figures in results.attempts().values())
        summary = Summary(
            campaign=str(results.manifest.get("campaign", folder.name)),
            status=results.status,
            partial=results.partial,
            steps=steps,
            journeys=funnel(results),
            slos=slo_results(results, objectives),
            findings=Findings().extend(results.events_where(DETECTOR_PREFILTER)),
            rights=_rights(results, folder, horizon_days),
            first_time=results.first_time(),
            consistency=time_to_consistency(results),
            duplicates=duplicates,
        )
    if baseline is not None:
        summary.regressions = regressions(steps, baseline_steps(baseline), margins or Margins())
    return summary


def slo_results(results: Results, objectives: Sequence[Objective]) -> list[SloResult]:
    counts = results.ratios([(o.good.sql(), o.total.sql()) for o in objectives])
    return [
        SloResult(o.name, o.display_name, o.target, good, total)
        for o, (good, total) in zip(objectives, counts, strict=True)
    ]


def time_to_consistency(results: Results) -> dict[str, dict[str, float]]:
    """How long effects took to show on the other side (watches that succeeded), per step."""
    watches = ", ".join(f"'{step}'" for step in sorted(watch_steps()))
    found = results.step_quantiles(f"outcome = 'ok' AND step IN ({watches})")
    return {
        step: {"p50_ms": round(q.p50_ms, 3), "p95_ms": round(q.p95_ms, 3), "p99_ms": round(q.p99_ms, 3)}
        for step, q in sorted(found.items())
    }


def step_figures(results: Results) -> dict[str, dict[str, Any]]:
    """Per step: attempts started, outcome counts (they add up to the attempts: see
    ``checks.store``), failure rate and exact percentiles."""
    counts = results.step_counts()
    attempts = results.attempts()
    quantiles = results.step_quantiles()
    figures = {}
    for step in sorted(counts):
        by_outcome = {o: counts[step].get(o, 0) for o in OUTCOMES}
        total = sum(by_outcome.values())
        attempted, unfinished, withdrawn, _ = attempts.get(step, (total, 0, 0, 0))
        q = quantiles.get(step, Quantiles(0.0, 0.0, 0.0, 0.0))
        figures[step] = {
            "attempted": attempted,
            "unfinished": unfinished,
            "withdrawn": withdrawn,
            "total": total,
            "outcomes": by_outcome,
            "failure_rate": round((total - by_outcome["ok"]) / total, 6) if total else 0.0,
            "p50_ms": round(q.p50_ms, 3),
            "p95_ms": round(q.p95_ms, 3),
            "p99_ms": round(q.p99_ms, 3),
            "max_ms": round(q.max_ms, 3),
        }
    return figures


def funnel(results: Results) -> dict[str, dict[str, Any]]:
    """Per journey: how many started, ended each way, reached each step, and where they first failed."""
    declared = {name: definition.step_names for name, definition in load_all().items()}
    outcomes: dict[str, dict[str, int]] = {}
    for journey, outcome, n in results.rows("SELECT journey, outcome, count(*) FROM journeys GROUP BY ALL"):
        outcomes.setdefault(journey, {})[outcome] = int(n)
    failed_at: dict[str, dict[str, int]] = {}
    query = "SELECT journey, failed_step, count(*) FROM journeys WHERE failed_step IS NOT NULL GROUP BY ALL"
    for journey, step, n in results.rows(query):
        failed_at.setdefault(journey, {})[step] = int(n)
    reached: dict[str, dict[str, int]] = {}
    query = "SELECT journey, step, count(DISTINCT jid) FROM steps GROUP BY ALL"
    for journey, step, n in results.rows(query):
        reached.setdefault(journey, {})[step] = int(n)
    found = {}
    for journey in sorted(set(outcomes) | set(reached)):
        order = [s for s in declared.get(journey, ()) if s in reached.get(journey, {})]
        order += sorted(set(reached.get(journey, {})) - set(order))
        found[journey] = {
            "total": sum(outcomes.get(journey, {}).values()),
            "outcomes": outcomes.get(journey, {}),
            "reached": {step: reached[journey][step] for step in order},
            "failed_at": dict(sorted(failed_at.get(journey, {}).items(), key=lambda kv: -kv[1])),
        }
    return found


def _rights(results: Results, folder: Path, horizon_days: int) -> RightsAtRisk | None:
    campaign = folder / "campaign.yaml"
    if not campaign.is_file():
        return None
    try:
        spec = load_scenario(campaign)
    except (ConfigError, ValidationError):
        return None
    return rights_at_risk(results, spec.population, horizon_days=horizon_days)


def baseline_steps(folder: Path) -> dict[str, dict[str, Any]]:
    """The per-step figures of a baseline campaign: from its summary.json, else from its events."""
    path = folder / "summary.json"
    if path.is_file():
        try:
            steps = json.loads(path.read_text(encoding="utf-8")).get("steps")
        except ValueError as exc:
            raise ConfigError(str(path), f"not readable JSON ({exc})") from None
        if isinstance(steps, dict):
            return steps
    with Results(folder) as results:
        return step_figures(results)


def regressions(
    now: dict[str, dict[str, Any]], before: dict[str, dict[str, Any]], margins: Margins
) -> list[Regression]:
    found = []
    for step, figures in sorted(now.items()):
        old = before.get(step)
        if not old or not figures["total"]:
            continue
        if figures["p95_ms"] > old["p95_ms"] * (1 + margins.p95_increase) + margins.p95_floor_ms:
            found.append(Regression(step, "p95_ms", float(old["p95_ms"]), float(figures["p95_ms"])))
        if figures["failure_rate"] > old["failure_rate"] + margins.failure_rate_increase:
            found.append(Regression(step, "failure_rate", float(old["failure_rate"]), float(figures["failure_rate"])))
    return found


def write_summary(folder: Path, summary: Summary) -> Path:
    path = folder / "summary.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary.to_json(), indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(path)
    return path
