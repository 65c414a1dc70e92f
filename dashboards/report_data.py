"""What the campaign report and the history read from a results folder besides ``summary.json``
(``checks.summary``) and ``manifest.json`` (``scenarios.manifest``): the campaign file and figures
from the events.

The campaign file is optional: one that cannot be read becomes a note in the report rather than a
failure. Figures over time come from the step events through DuckDB: a
streaming scan of a few narrow columns, never one Python object per event.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field

from scenarios.journeys import watch_steps
from scenarios.manifest import problem

OUTCOMES = ("ok", "error", "timeout", "blocked", "lost", "corrupt", "missing")
FAILURES = OUTCOMES[1:]
NICE_BUCKETS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
MAX_BUCKETS = 40


class _Model(BaseModel):
    # Readers of files other modules write: tolerate fields added later, never fail on them.
    model_config = ConfigDict(extra="ignore", frozen=True)


class InlineFault(_Model):
    id: str
    rate: float | None = None


class ScheduledChange(_Model):
    at: float | str = 0.0
    profile: str | None = None
    faults: list[InlineFault] | None = None
    action: str | None = None  # a drill (``drills.catalogue``)
    dependency: str | None = None  # what a cut or restore drill acts on


class CampaignFaults(_Model):
    profile: str = "none"
    schedule: list[ScheduledChange] = Field(default_factory=list)


class CampaignFile(_Model):
    """The parts of the resolved ``campaign.yaml`` the report shows."""

    target: str | None = None
    faults: CampaignFaults = Field(default_factory=CampaignFaults)


def read_campaign(results: Path, notes: list[str]) -> CampaignFile:
    """The resolved ``campaign.yaml``; missing or unreadable gives the defaults (and a note if unreadable)."""
    path = results / "campaign.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return CampaignFile.model_validate(data if isinstance(data, dict) else {})
    except FileNotFoundError:
        return CampaignFile()
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:  # ValidationError is a ValueError
        notes.append(f"{path.name}: {problem(exc)}")
        return CampaignFile()


# --- figures from the step events --------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    start_s: float  # seconds since the first event
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Activity:
    """What went on in one bucket: every step that ended in it, how many failed, and the journeys
    in flight (their average number over the bucket: the time they spent in it over its width)."""

    start_s: float  # seconds since the origin
    steps: int
    failures: int
    in_flight: float


@dataclass(frozen=True)
class EventFigures:
    bucket_s: int = 10
    origin: float | None = None  # epoch seconds of "0 s" on the charts: the load's start, else the first event
    timeline: list[Bucket] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)
    request_steps: int = 0
    request_p95_ms: float | None = None  # every request step (watches left out)
    page_loads: int = 0
    page_load_p95_ms: float | None = None  # Navigation Timing, recorded by browser steps


def bucket_seconds(span_s: float) -> int:
    """A round bucket width giving at most ``MAX_BUCKETS`` points over the campaign."""
    return next((b for b in NICE_BUCKETS_S if span_s / b <= MAX_BUCKETS), NICE_BUCKETS_S[-1])


# Watches (the steps journeys declare as such) measure a time to consistency, not a response time:
# they are left out of the latency figures. The list is the declared watches, quoted for SQL.
_NARROW = """CREATE TABLE e AS SELECT kind = 'journey' AS journey, time, duration_ms, outcome <> 'ok' AS failed,
        list_contains(?, step) AS watch,
        TRY_CAST(json_extract_string(evidence, '$.page_load_ms') AS DOUBLE) AS page_load_ms
    FROM read_json(?, format = 'newline_delimited', ignore_errors = true, maximum_object_size = 10485760,
        columns = {kind: 'VARCHAR', time: 'DOUBLE', step: 'VARCHAR', outcome: 'VARCHAR', duration_ms: 'DOUBLE',
            evidence: 'JSON'})
    WHERE kind IN ('step', 'journey') AND time IS NOT NULL AND duration_ms IS NOT NULL"""
_VIEWS = (
    "CREATE VIEW s AS SELECT * FROM e WHERE NOT journey",
    "CREATE VIEW j AS SELECT time AS began, time + duration_ms / 1000 AS ended FROM e WHERE journey",
)


def event_figures(results: Path, *, timeline: bool = True, origin: float | None = None) -> EventFigures:
    """Latency and activity over time, overall request p95 and page loads, by DuckDB over
    ``events/*.jsonl``. ``origin`` is the epoch of "0 s" (default: the first step event)."""
    files = sorted((results / "events").glob("*.jsonl"))
    if not files:
        return EventFigures()
    with tempfile.TemporaryDirectory(prefix="anef-report-") as scratch:
        db = duckdb.connect(config={"memory_limit": "600MB", "temp_directory": scratch})
        try:
            db.execute("SET enable_progress_bar = false")
            # Narrow columns only (a few bytes an event), so ten million events stay small; a torn
            # last line (a process killed mid-write) is skipped as the judgement does.
            db.execute(_NARROW, [sorted(watch_steps()), [str(path) for path in files]])
            for view in _VIEWS:
                db.execute(view)
            return _figures(db, timeline=timeline, origin=origin)
        finally:
            db.close()


def _figures(db: duckdb.DuckDBPyConnection, *, timeline: bool, origin: float | None) -> EventFigures:
    row = db.execute(
        """SELECT min(time), max(time), count(*) FILTER (WHERE NOT watch),
            quantile_cont(duration_ms, 0.95) FILTER (WHERE NOT watch),
            count(page_load_ms), quantile_cont(page_load_ms, 0.95) FROM s"""
    ).fetchone()
    if row is None or row[0] is None:
        return EventFigures()
    first, last, requests, request_p95, loads, load_p95 = row
    zero = float(first) if origin is None else min(origin, float(first))
    width = bucket_seconds(float(last) - zero)
    buckets = []
    activity = []
    if timeline:
        query = (
            "SELECT floor((time - ?) / ?) AS k, count(*), quantile_cont(duration_ms, [0.5, 0.95, 0.99]) "
            "FROM s WHERE NOT watch GROUP BY k ORDER BY k"
        )
        for k, n, (p50, p95, p99) in db.execute(query, [zero, width]).fetchall():
            buckets.append(Bucket(float(k) * width, int(n), float(p50), float(p95), float(p99)))
        activity = _activity(db, zero, width)
    return EventFigures(
        bucket_s=width,
        origin=zero,
        timeline=buckets,
        activity=activity,
        request_steps=int(requests),
        request_p95_ms=float(request_p95) if request_p95 is not None else None,
        page_loads=int(loads),
        page_load_p95_ms=float(load_p95) if load_p95 is not None else None,
    )


# Steps by the bucket they ended in (a throughput is of work done); journeys by the time they spent
# in each bucket they overlap. Every bucket from the first to the last is listed, empty ones too:
# a stall (nothing done) must show as a drop to zero, not as a line drawn across it.
_ACTIVITY = """WITH steps AS (
        SELECT floor((time + duration_ms / 1000 - $zero) / $width) AS k, count(*) AS n,
            count(*) FILTER (WHERE failed) AS bad
        FROM s GROUP BY k),
    span AS (SELECT greatest(min(k), 0) AS low, max(k) AS high FROM steps),
    buckets AS (SELECT range AS k FROM span, range(CAST(span.low AS BIGINT), CAST(span.high AS BIGINT) + 1)),
    flight AS (
        SELECT b.k, sum(least(j.ended, $zero + (b.k + 1) * $width) - greatest(j.began, $zero + b.k * $width)) AS busy
        FROM buckets b JOIN j ON j.began < $zero + (b.k + 1) * $width AND j.ended > $zero + b.k * $width
        GROUP BY b.k)
    SELECT b.k, coalesce(steps.n, 0), coalesce(steps.bad, 0), coalesce(flight.busy, 0) / $width
    FROM buckets b LEFT JOIN steps USING (k) LEFT JOIN flight USING (k) ORDER BY b.k"""


def _activity(db: duckdb.DuckDBPyConnection, zero: float, width: int) -> list[Activity]:
    rows = db.execute(_ACTIVITY, {"zero": zero, "width": width}).fetchall()
    return [Activity(float(k) * width, int(n), int(bad), float(busy)) for k, n, bad, busy in rows]


def utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)
