"""What the campaign report and the history read from a results folder, as typed models.

``summary.json`` is required (it holds the verdict; ``anef-harness gate`` writes it); the
manifest and the campaign file are optional, and one that cannot be read becomes a note in the
report rather than a failure. Figures over time come from the step events through DuckDB: a
streaming scan of a few narrow columns, never one Python object per event.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal, TypeVar

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ConfigError

OUTCOMES = ("ok", "error", "timeout", "blocked", "lost", "corrupt", "missing")
FAILURES = OUTCOMES[1:]
NICE_BUCKETS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
MAX_BUCKETS = 40


class _Model(BaseModel):
    # Readers of files other modules write: tolerate fields added later, never fail on them.
    model_config = ConfigDict(extra="ignore", frozen=True)


class StepFigures(_Model):
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


class SloFigures(_Model):
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


class DefectSample(_Model):
    title: str = ""
    why: str = ""
    step: str = ""
    applicant: int | None = None
    applicant_id: str | None = None
    time: float | None = None
    message: str = ""
    objects: list[str] = Field(default_factory=list)
    evidence: dict[str, str | int | float | None] = Field(default_factory=dict)

    @property
    def dossier(self) -> str | None:
        found = self.evidence.get("dossier")
        return str(found) if found else None


class DefectFigures(_Model):
    count: int
    symptoms: int | None = None
    gating: bool = False
    first_seen_s: float | None = None
    samples: list[DefectSample] = Field(default_factory=list)


class AtRiskApplicant(_Model):
    applicant: int
    failed_step: str = ""
    outcome: str = ""
    message: str = ""
    card_expires: date | None = None
    days_left_to_file: int | None = None


class RightsFigures(_Model):
    count: int
    failed_renewals: int = 0
    horizon_days: int = 0
    reference_date: date | None = None
    projection: str = ""
    applicants: list[AtRiskApplicant] = Field(default_factory=list)


class Percentiles(_Model):
    p50_ms: float
    p95_ms: float
    p99_ms: float


class RegressionFigures(_Model):
    step: str
    what: str
    baseline: float
    now: float


class SummaryFile(_Model):
    """``summary.json`` as ``checks.evaluate.Summary.to_json`` writes it."""

    campaign: str
    status: str = "unknown"
    partial: bool = False
    verdict: Literal["pass", "fail"]
    steps: dict[str, StepFigures] = Field(default_factory=dict)
    slos: list[SloFigures] = Field(default_factory=list)
    defects: dict[str, DefectFigures] = Field(default_factory=dict)
    time_to_consistency: dict[str, Percentiles] = Field(default_factory=dict)
    rights_at_risk: RightsFigures | None = None
    regressions: list[RegressionFigures] = Field(default_factory=list)

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


class FaultChangeRecord(_Model):
    at_s: float
    applied: datetime | None = None
    faults: str = ""
    error: str | None = None


class TargetInfo(_Model):
    url: str | None = None
    embedded: bool = False


class ManifestFile(_Model):
    campaign: str | None = None
    source: str | None = None  # the campaign file the run was started from
    seed: int | None = None
    status: str | None = None
    started: datetime | None = None
    load_started: datetime | None = None
    load_ended: datetime | None = None
    ended: datetime | None = None
    target: TargetInfo | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    fault_changes: list[FaultChangeRecord] = Field(default_factory=list)
    problem: str | None = None


class InlineFault(_Model):
    id: str
    rate: float | None = None


class ScheduledChange(_Model):
    at: float | str = 0.0
    profile: str | None = None
    faults: list[InlineFault] | None = None


class CampaignFaults(_Model):
    profile: str = "none"
    schedule: list[ScheduledChange] = Field(default_factory=list)


class CampaignFile(_Model):
    """The parts of the resolved ``campaign.yaml`` the report shows."""

    target: str | None = None
    faults: CampaignFaults = Field(default_factory=CampaignFaults)


_M = TypeVar("_M", bound=BaseModel)


def read_summary(results: Path) -> SummaryFile:
    """``summary.json``, or a one-line ``ConfigError`` saying how to get one."""
    if not results.is_dir():
        raise ConfigError(str(results), "no such results folder")
    path = results / "summary.json"
    if not path.is_file():
        raise ConfigError(str(results), f"no summary.json — run `anef-harness gate {results}` first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(str(path), f"not readable JSON ({_one_line(exc)})") from None
    try:
        return SummaryFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), f"not a campaign summary ({_first_error(exc)})") from None


def read_manifest(results: Path, notes: list[str] | None = None) -> ManifestFile:
    return read_optional(results / "manifest.json", ManifestFile, [] if notes is None else notes, yaml_file=False)


def read_optional(path: Path, model: type[_M], notes: list[str], *, yaml_file: bool) -> _M:
    """The file as ``model``; missing or unreadable gives the defaults (and a note if unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return model.model_validate({})
    except (OSError, UnicodeDecodeError) as exc:
        notes.append(f"{path.name}: {_one_line(exc)}")
        return model.model_validate({})
    try:
        data = yaml.safe_load(text) if yaml_file else json.loads(text)
        return model.model_validate(data if isinstance(data, dict) else {})
    except (yaml.YAMLError, ValueError) as exc:
        detail = _first_error(exc) if isinstance(exc, ValidationError) else _one_line(exc)
        notes.append(f"{path.name}: {detail}")
        return model.model_validate({})


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "top level"
    return f"{where}: {first['msg']}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


# --- figures from the step events --------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    start_s: float  # seconds since the first event
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class EventFigures:
    bucket_s: int = 10
    timeline: list[Bucket] = field(default_factory=list)
    request_steps: int = 0
    request_p95_ms: float | None = None  # every request step (watches left out)
    page_loads: int = 0
    page_load_p95_ms: float | None = None  # Navigation Timing, recorded by browser steps


def bucket_seconds(span_s: float) -> int:
    """A round bucket width giving at most ``MAX_BUCKETS`` points over the campaign."""
    return next((b for b in NICE_BUCKETS_S if span_s / b <= MAX_BUCKETS), NICE_BUCKETS_S[-1])


# Watches (*.reconcile, *.visible, *.email) measure a time to consistency, not a response time: they
# are left out of the latency figures.
_NARROW = """CREATE TABLE s AS SELECT time, duration_ms,
        (ends_with(step, '.reconcile') OR ends_with(step, '.visible') OR ends_with(step, '.email')) AS watch,
        TRY_CAST(json_extract_string(evidence, '$.page_load_ms') AS DOUBLE) AS page_load_ms
    FROM read_json(?, format = 'newline_delimited', ignore_errors = true, maximum_object_size = 10485760,
        columns = {kind: 'VARCHAR', time: 'DOUBLE', step: 'VARCHAR', duration_ms: 'DOUBLE', evidence: 'JSON'})
    WHERE kind = 'step' AND time IS NOT NULL AND duration_ms IS NOT NULL"""


def event_figures(results: Path, *, timeline: bool = True) -> EventFigures:
    """Latency over time, overall request p95 and page loads, by DuckDB over ``events/*.jsonl``."""
    files = sorted((results / "events").glob("*.jsonl"))
    if not files:
        return EventFigures()
    with tempfile.TemporaryDirectory(prefix="anef-report-") as scratch:
        db = duckdb.connect(config={"memory_limit": "600MB", "temp_directory": scratch})
        try:
            db.execute("SET enable_progress_bar = false")
            # Narrow columns only (a few bytes an event), so ten million events stay small; a torn
            # last line (a process killed mid-write) is skipped as the judgement does.
            db.execute(_NARROW, [[str(path) for path in files]])
            return _figures(db, timeline=timeline)
        finally:
            db.close()


def _figures(db: duckdb.DuckDBPyConnection, *, timeline: bool) -> EventFigures:
    row = db.execute(
        """SELECT min(time), max(time), count(*) FILTER (WHERE NOT watch),
            quantile_cont(duration_ms, 0.95) FILTER (WHERE NOT watch),
            count(page_load_ms), quantile_cont(page_load_ms, 0.95) FROM s"""
    ).fetchone()
    if row is None or row[0] is None:
        return EventFigures()
    first, last, requests, request_p95, loads, load_p95 = row
    width = bucket_seconds(float(last) - float(first))
    buckets = []
    if timeline:
        query = (
            "SELECT floor((time - ?) / ?) AS k, count(*), quantile_cont(duration_ms, [0.5, 0.95, 0.99]) "
            "FROM s WHERE NOT watch GROUP BY k ORDER BY k"
        )
        for k, n, (p50, p95, p99) in db.execute(query, [first, width]).fetchall():
            buckets.append(Bucket(float(k) * width, int(n), float(p50), float(p95), float(p99)))
    return EventFigures(
        bucket_s=width,
        timeline=buckets,
        request_steps=int(requests),
        request_p95_ms=float(request_p95) if request_p95 is not None else None,
        page_loads=int(loads),
        page_load_p95_ms=float(load_p95) if load_p95 is not None else None,
    )


def utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)
