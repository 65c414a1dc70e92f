"""``summary.json``, one model for the judgement that writes it (``checks.evaluate``) and every
reader (the gate's output, the report, the history, a baseline, live progress).

The per-step figures are also what live progress shows while the run goes (``checks.results``).
Readers ignore fields added later and take the defaults for fields an older harness did not
write; a summary of a newer ``format`` than this harness reads is refused with a one-line error.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ConfigError
from scenarios.manifest import problem

SUMMARY_FORMAT = 1  # summary.json "format": bumped when a field changes meaning or goes away
SUMMARY = "summary.json"


class _Part(BaseModel):
    # Readers of a file other versions write: tolerate fields added later, never fail on them.
    model_config = ConfigDict(extra="ignore", frozen=True)


class StepFigures(_Part):
    """One step's attempts: outcome counts (they add up to ``total``), failure rate, percentiles."""

    attempted: int | None = None  # attempts started; equals total once the run is over (None: live)
    unfinished: int = 0  # attempts a killed process left open, closed as error
    withdrawn: int = 0  # attempts that turned out not to apply, or that the run's end stopped
    total: int
    outcomes: dict[str, int] = Field(default_factory=dict)
    failure_rate: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0

    @property
    def failures(self) -> int:
        return self.total - self.outcomes.get("ok", 0)


class JourneyFigures(_Part):
    """The funnel of one journey: how many ended each way, reached each step, first failed where."""

    total: int
    outcomes: dict[str, int] = Field(default_factory=dict)
    reached: dict[str, int] = Field(default_factory=dict)  # in the journey's step order
    failed_at: dict[str, int] = Field(default_factory=dict)  # most frequent first


class Accounting(_Part):
    """Attempts started against outcomes recorded, over all steps: they must be equal."""

    attempted: int = 0
    outcomes: int = 0
    unfinished: int = 0
    withdrawn: int = 0
    duplicates: int = 0  # attempts recorded with more than one outcome: must stay 0


class SloFigures(_Part):
    name: str
    display_name: str = ""
    objective: float
    sli: float | None = None
    met: bool
    good: int = 0
    total: int = 0
    error_budget_consumed: float | None = None
    burn_rate: float | None = None

    @property
    def state(self) -> Literal["breached", "met", "nodata"]:
        if self.total == 0 or self.sli is None:
            return "nodata"
        return "met" if self.met else "breached"


class DefectSample(_Part):
    """One detection, as ``checks.defects.Detection.sample`` describes it."""

    title: str = ""
    why: str = ""
    step: str = ""
    applicant: int | None = None
    applicant_id: str | None = None
    time: float | None = None
    status: int | None = None
    duration_s: float | None = None
    message: str = ""
    objects: list[str] = Field(default_factory=list)
    evidence: dict[str, str | int | float | None] = Field(default_factory=dict)

    @property
    def dossier(self) -> str | None:
        found = self.evidence.get("dossier")
        return str(found) if found else None


class DefectFigures(_Part):
    count: int  # incidents (symptoms of one cause counted once)
    symptoms: int | None = None
    gating: bool = False
    first_seen_s: float | None = None  # since the campaign's first event
    samples: list[DefectSample] = Field(default_factory=list)


class AtRiskApplicant(_Part):
    applicant: int
    failed_step: str = ""
    outcome: str = ""
    message: str = ""
    card_expires: date | None = None
    days_to_expiry: int | None = None
    days_left_to_file: int | None = None


class RightsFigures(_Part):
    count: int
    failed_renewals: int = 0
    horizon_days: int = 0
    reference_date: date | None = None
    projection: str = ""
    applicants: list[AtRiskApplicant] = Field(default_factory=list)


class Percentiles(_Part):
    p50_ms: float
    p95_ms: float
    p99_ms: float


class ShiftCheckFigures(_Part):
    """One step's latency or failure-rate shift against the baseline (``checks.shift``)."""

    step: str
    what: str  # "latency" (the mean of the configured band's quantiles, ms) or "failure_rate"
    flagged: bool = False
    skipped: str | None = None  # why it was not tested
    n_now: int = 0
    n_baseline: int = 0
    now: float = 0.0
    baseline: float = 0.0
    effect: float = 0.0  # now - baseline
    ci_low: float = 0.0
    ci_high: float = 0.0
    p: float = 1.0  # one-sided, before adjustment
    p_holm: float = 1.0  # adjusted over every check made in the run
    bound: float = 0.0  # flagged only when ci_low exceeds it (ms or a rate difference)


class ShiftFigures(_Part):
    baseline: str | None = None  # the results folder compared with; None: there was none
    origin: str = ""  # how it was chosen, or why there is none
    bounds: dict[str, float | list[float]] = Field(default_factory=dict)
    drift: float = 1.0  # the acting steps' slowdown against the baseline, factored out of latency
    checks: list[ShiftCheckFigures] = Field(default_factory=list)


class SummaryFile(_Part):
    """``summary.json``: the verdict and what it rests on."""

    format: int = SUMMARY_FORMAT  # summaries written before it was kept are of format 1
    campaign: str
    status: str = "unknown"
    partial: bool = False
    verdict: Literal["pass", "fail"]
    accounting: Accounting = Field(default_factory=Accounting)
    steps: dict[str, StepFigures] = Field(default_factory=dict)
    journeys: dict[str, JourneyFigures] = Field(default_factory=dict)
    slos: list[SloFigures] = Field(default_factory=list)
    defects: dict[str, DefectFigures] = Field(default_factory=dict)
    time_to_consistency: dict[str, Percentiles] = Field(default_factory=dict)
    rights_at_risk: RightsFigures | None = None
    shift: ShiftFigures | None = None  # against a baseline (checks.shift)

    @property
    def attempts(self) -> int:
        return sum(s.total for s in self.steps.values())

    @property
    def failures(self) -> int:
        return sum(s.failures for s in self.steps.values())

    @property
    def failure_rate(self) -> float:
        return self.failures / self.attempts if self.attempts else 0.0

    @property
    def gating_defects(self) -> list[str]:
        return sorted(d for d, f in self.defects.items() if f.gating and f.count)


def write_summary_file(folder: Path, summary: SummaryFile) -> Path:
    """``summary.json`` in ``folder``, replaced atomically."""
    path = folder / SUMMARY
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(summary.model_dump_json(indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


def read_summary(results: Path) -> SummaryFile:
    """``summary.json``, or a one-line ``ConfigError`` saying how to get one."""
    if not results.is_dir():
        raise ConfigError(str(results), "no such results folder")
    path = results / SUMMARY
    if not path.is_file():
        raise ConfigError(str(results), f"no summary.json — run `anef-harness gate {results}` first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(str(path), f"not readable JSON ({problem(exc)})") from None
    try:
        summary = SummaryFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), f"not a campaign summary ({problem(exc)})") from None
    if summary.format > SUMMARY_FORMAT:
        raise ConfigError(
            str(path),
            f"summary format {summary.format}, this harness reads format {SUMMARY_FORMAT}: "
            f"run `anef-harness gate {results}` again",
        )
    return summary
