"""Judging a campaign: per-step figures, SLOs with error budgets, the journey funnel, defects,
rights at risk, shifts against a baseline, and the verdict — written as ``summary.json``.

One function, ``evaluate``, reads a results folder (``checks.store.Results``) and returns a
``Summary``; the gate, ``anef-harness run`` and the report all use it, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from checks.defects import DETECTOR_PREFILTER, Findings, gating_defects
from checks.rights import DEFAULT_HORIZON_DAYS, RightsAtRisk, rights_in_folder
from checks.shift import Baseline, ShiftBounds, ShiftReport, bounds_of, read_samples, shift_against
from checks.slo import Objective
from checks.store import Quantiles, Results
from checks.summary import (
    Accounting,
    DefectFigures,
    DefectSample,
    JourneyFigures,
    Percentiles,
    SloFigures,
    StepFigures,
    SummaryFile,
    write_summary_file,
)
from scenarios.events import Outcome
from scenarios.journeys import load_all, watch_steps
from scenarios.manifest import ManifestFile

OUTCOMES = [o.value for o in Outcome]
# The documented ANEF defects (DESIGN.md's catalogue) and the security weaknesses: one detection
# fails the gate. Generic faults (errors, timeouts, latency…) are reported, and judged through the
# SLOs and their error budgets. Derived from the defect declarations (``gating=True``).
GATING_DEFECTS = gating_defects()


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

    def figures(self) -> SloFigures:
        burn = self.burn_rate
        return SloFigures(
            name=self.name,
            display_name=self.display_name,
            objective=self.objective,
            sli=None if self.sli is None else round(self.sli, 6),
            met=self.met,
            good=self.good,
            total=self.total,
            error_budget_consumed=None if burn is None else round(burn, 4),
            burn_rate=None if burn is None else round(burn, 4),
        )


@dataclass
class Summary:
    """The judgement in memory (with every detection and applicant at risk); ``file()`` is what
    ``summary.json`` keeps of it."""

    campaign: str
    status: str
    partial: bool
    steps: dict[str, StepFigures]
    journeys: dict[str, JourneyFigures]
    slos: list[SloResult]
    findings: Findings
    rights: RightsAtRisk | None
    first_time: float | None = None
    last_time: float | None = None
    manifest: ManifestFile = field(default_factory=ManifestFile)
    consistency: dict[str, Percentiles] = field(default_factory=dict)
    duplicates: int = 0  # attempts recorded with more than one outcome: must stay 0
    shift: ShiftReport = field(default_factory=ShiftReport)  # latency and failure shifts against a baseline

    @property
    def accounting(self) -> Accounting:
        """Attempts started against outcomes recorded, over all steps: they must be equal."""
        return Accounting(
            attempted=sum(s.total if s.attempted is None else s.attempted for s in self.steps.values()),
            outcomes=sum(s.total for s in self.steps.values()),
            unfinished=sum(s.unfinished for s in self.steps.values()),
            withdrawn=sum(s.withdrawn for s in self.steps.values()),
            duplicates=self.duplicates,
        )

    @property
    def window(self) -> tuple[float, float] | None:
        """The evaluated window (epoch seconds): the load's start to its end as the manifest says,
        else the first and last events; None for a campaign that recorded nothing."""
        manifest = self.manifest
        start = manifest.load_started.timestamp() if manifest.load_started else self.first_time
        end = manifest.load_ended.timestamp() if manifest.load_ended else self.last_time
        if start is None or end is None:
            return None
        return start, max(start, end)

    @property
    def breached(self) -> list[SloResult]:
        return [s for s in self.slos if not s.met]

    @property
    def defects(self) -> list[str]:
        """The gating defects detected."""
        return sorted(d for d, n in self.findings.counts.items() if n and d in GATING_DEFECTS)

    @property
    def verdict(self) -> Literal["pass", "fail"]:
        return "fail" if self.breached or self.defects or self.shift.flagged else "pass"

    def file(self) -> SummaryFile:
        """What ``summary.json`` keeps."""
        origin = self.first_time or 0.0
        return SummaryFile(
            campaign=self.campaign,
            status=self.status,
            partial=self.partial,
            verdict=self.verdict,
            accounting=self.accounting,
            steps=self.steps,
            journeys=self.journeys,
            slos=[s.figures() for s in self.slos],
            defects={
                defect: DefectFigures(
                    count=self.findings.incidents.get(defect, count),
                    symptoms=count,
                    gating=defect in GATING_DEFECTS,
                    first_seen_s=round(self.findings.first_seen[defect] - origin, 3),
                    samples=[DefectSample.model_validate(s) for s in self.findings.samples.get(defect, [])],
                )
                for defect, count in self.findings.counts.most_common()
            },
            time_to_consistency=self.consistency,
            rights_at_risk=self.rights.figures() if self.rights is not None else None,
            shift=self.shift.figures(),
        )


def evaluate(
    folder: Path,
    objectives: Sequence[Objective],
    *,
    baseline: Path | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    shift_baseline: Baseline | None = None,
    shift_bounds: ShiftBounds | None = None,
) -> Summary:
    """Judge one results folder. Shifts are tested against ``shift_baseline`` (chosen from the
    history by the caller), else against ``baseline``; the bounds are the campaign's by default."""
    with Results(folder) as results, ThreadPoolExecutor(1, thread_name_prefix="anef-detectors") as detectors:
        # The detectors (Python, one event at a time) run beside the queries (DuckDB, which lets
        # go of the GIL): the two cores are busy at once.
        detected = detectors.submit(lambda: Findings().extend(results.events_where(DETECTOR_PREFILTER)))
        steps = step_figures(results)
        duplicates = sum(figures[3] for figures in results.attempts().values())
        summary = Summary(
            campaign=results.manifest.campaign or folder.name,
            status=results.status,
            partial=results.partial,
            steps=steps,
            journeys=funnel(results),
            slos=slo_results(results, objectives),
            findings=Findings(),
            rights=rights_in_folder(results, folder, horizon_days=horizon_days),
            first_time=results.first_time(),
            last_time=results.last_time(),
            manifest=results.manifest,
            consistency=time_to_consistency(results),
            duplicates=duplicates,
        )
        summary.findings = detected.result()
        samples = read_samples(results)
    if shift_baseline is None:
        shift_baseline = Baseline(baseline, "given with --baseline") if baseline is not None else Baseline()
    summary.shift = shift_against(samples, shift_baseline, shift_bounds or bounds_of(folder))
    return summary


def slo_results(results: Results, objectives: Sequence[Objective]) -> list[SloResult]:
    durations = frozenset().union(*(o.good.durations() | o.total.durations() for o in objectives))
    counts = results.ratios([(o.good.sql(), o.total.sql()) for o in objectives], durations=durations)
    return [
        SloResult(o.name, o.display_name, o.target, good, total)
        for o, (good, total) in zip(objectives, counts, strict=True)
    ]


def time_to_consistency(results: Results) -> dict[str, Percentiles]:
    """How long effects took to show on the other side (watches that succeeded), per step."""
    watches = ", ".join(f"'{step}'" for step in sorted(watch_steps()))
    found = results.step_quantiles(f"outcome = 'ok' AND step IN ({watches})")
    return {
        step: Percentiles(p50_ms=round(q.p50_ms, 3), p95_ms=round(q.p95_ms, 3), p99_ms=round(q.p99_ms, 3))
        for step, q in sorted(found.items())
    }


def step_figures(results: Results) -> dict[str, StepFigures]:
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
        figures[step] = StepFigures(
            attempted=attempted,
            unfinished=unfinished,
            withdrawn=withdrawn,
            total=total,
            outcomes=by_outcome,
            failure_rate=round((total - by_outcome["ok"]) / total, 6) if total else 0.0,
            p50_ms=round(q.p50_ms, 3),
            p95_ms=round(q.p95_ms, 3),
            p99_ms=round(q.p99_ms, 3),
            max_ms=round(q.max_ms, 3),
        )
    return figures


def funnel(results: Results) -> dict[str, JourneyFigures]:
    """Per journey: how many started, ended each way, reached each step, and where they first failed."""
    declared = {name: definition.step_names for name, definition in load_all().items()}
    outcomes: dict[str, dict[str, int]] = {}
    for journey, outcome, n in results.rows(
        "SELECT journey, outcome, count(*) FROM journeys WHERE outcome IS NOT NULL GROUP BY ALL"
    ):
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
        found[journey] = JourneyFigures(
            total=sum(outcomes.get(journey, {}).values()),
            outcomes=outcomes.get(journey, {}),
            reached={step: reached[journey][step] for step in order},
            failed_at=dict(sorted(failed_at.get(journey, {}).items(), key=lambda kv: -kv[1])),
        )
    return found


def write_summary(folder: Path, summary: Summary) -> Path:
    return write_summary_file(folder, summary.file())
