"""A campaign's results folder, read for judgement: events into DuckDB, the manifest, the campaign.

DuckDB parses the JSON Lines event files on every core in one streaming scan and keeps what
judgement needs in a scratch database file: compressed columns (the fixed vocabularies of the
event models as enums, journey ids hashed to 64 bits, the details only of the attempts detectors
look at), read back through a small buffer pool. Ten million events are judged in seconds within
a few hundred megabytes, and every figure is exact (percentiles, SLO counts). A torn last line (a
load process killed mid-write) is skipped, never fatal; a kind, outcome or channel that is none
of the event models' is read as NULL (no step, journey, outcome or channel of the models).

Accounting: every attempt a load process started (an ``attempt`` event) ends in exactly one
outcome. An attempt whose outcome was never written (its process was killed, or the harness
itself was) is closed here as ``error``, with the evidence ``unfinished``, once the run is over;
its duration runs to the last event its process recorded.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import duckdb
import orjson

from core.errors import ConfigError
from scenarios.events import Channel, Event, JourneyOutcome, Outcome, StepEvent
from scenarios.journeys import known_steps
from scenarios.manifest import ManifestFile, conductor_alive, load_manifest

# The attempts whose details (message, evidence…) are kept: what the defect detectors look at.
DETAILED = "kind <> 'step' OR outcome <> 'ok' OR duration_ms >= 1000"
UNFINISHED_MESSAGE = "interrupted: no outcome was recorded (the load process or the harness stopped during the step)"
# Attempts without their outcome, closed as errors (see the module's docstring).
_CLOSE_UNFINISHED = f"""
    INSERT INTO events BY NAME
    SELECT 'step' AS kind, a.time, a.journey, a.step, 'error' AS outcome,
        greatest(0.0, (last.time - a.time) * 1000.0) AS duration_ms, a.jid, a.channel, a.applicant, a.attempt, a.seq,
        a.source, a.journey_id, a.worker, '{UNFINISHED_MESSAGE}' AS message,
        '{{"unfinished": "true"}}' AS evidence
    FROM events a
    JOIN (SELECT source, max(time) AS time FROM events GROUP BY source) last USING (source)
    ANTI JOIN (SELECT jid, step, attempt, seq FROM events WHERE kind IN ('step', 'withdrawn')) s
        ON s.jid = a.jid AND s.step = a.step AND s.attempt = a.attempt AND s.seq IS NOT DISTINCT FROM a.seq
    WHERE a.kind = 'attempt'
"""

# The fixed vocabularies of the event models, stored as enums (one byte a row, fast to group).
_ENUMS = {
    "event_kind": sorted(str(kind.__struct_config__.tag) for kind in get_args(Event)),
    "event_outcome": sorted({o.value for o in Outcome} | {o.value for o in JourneyOutcome}),
    "event_channel": sorted(get_args(Channel)),
}
_ENUM_OF = {"kind": "event_kind", "outcome": "event_outcome", "channel": "event_channel"}
# Journey and step names are enums too, of the names this harness knows; a folder that holds others
# (written by another version) has its names widened after the load (``_widen_names``).
_NAMES = ("journey", "step", "failed_step")
# Enough for the scan's buffers, the pairing of attempts and the funnel's distinct journeys; DuckDB
# spills to the scratch folder beyond it rather than fail.
MEMORY_LIMIT = "320MB"

_COLUMNS = {
    "kind": "VARCHAR",
    "time": "DOUBLE",
    "journey": "VARCHAR",
    "step": "VARCHAR",
    "outcome": "VARCHAR",
    "duration_ms": "DOUBLE",
    "journey_id": "VARCHAR",
    "worker": "VARCHAR",
    "channel": "VARCHAR",
    "applicant": "BIGINT",
    "attempt": "INTEGER",
    "status": "INTEGER",
    "message": "VARCHAR",
    "evidence": "VARCHAR",  # an object's JSON text, decoded for the few events detectors see
    "failed_step": "VARCHAR",
    "lag_ms": "DOUBLE",
    "seq": "INTEGER",
}


@dataclass(frozen=True)
class Quantiles:
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


class Results:
    """One results folder, opened for reading; use as a context manager."""

    def __init__(self, folder: Path, *, memory_limit: str = MEMORY_LIMIT, live: bool | None = None) -> None:
        self.folder = folder
        self.manifest = _load_manifest(folder)
        # While the run goes on, attempts in flight are not unfinished: they are only not over yet.
        self.live = self.status == "running" if live is None else live
        self._attempts: dict[str, tuple[int, int, int, int]] | None = None
        files = sorted((folder / "events").glob("*.jsonl"))
        self._scratch = tempfile.TemporaryDirectory(prefix="anef-results-")
        # A database file, not memory: DuckDB compresses a file's columns, and reads them back
        # through its buffer pool, so the events need not fit in ``memory_limit``.
        self.db = duckdb.connect(
            str(Path(self._scratch.name) / "events.duckdb"),
            config={"memory_limit": memory_limit, "temp_directory": self._scratch.name},
        )
        self.db.execute("SET preserve_insertion_order = false")
        self.db.execute("SET enable_progress_bar = false")
        self._load(files)

    def _load(self, files: list[Path]) -> None:
        columns = ", ".join(f"{name}: '{kind}'" for name, kind in _COLUMNS.items())
        if files:
            listing = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
            source = (
                f"read_json([{listing}], format = 'newline_delimited', columns = {{{columns}}}, "
                "ignore_errors = true, maximum_object_size = 10485760)"
            )
        else:
            nulls = ", ".join(f"NULL::{kind} AS {name}" for name, kind in _COLUMNS.items())
            source = f"(SELECT {nulls}, NULL::UBIGINT AS file_index LIMIT 0)"
        for name, values in _ENUMS.items():
            self.db.execute(f"CREATE TYPE {name} AS ENUM ({', '.join(_sql_text(v) for v in values)})")
        known = sorted(set(known_steps()) | {step.split(".", 1)[0] for step in known_steps()})
        self.db.execute(f"CREATE TYPE event_name AS ENUM ({', '.join(_sql_text(v) for v in known)})")
        typed = {column: f"TRY_CAST({column} AS {kind})" for column, kind in _ENUM_OF.items()}
        names = ", ".join(f"TRY_CAST({column} AS event_name) AS {column}" for column in _NAMES)
        # A name the enum does not know is kept aside (NULL nearly always: it costs nothing).
        others = ", ".join(
            f"CASE WHEN TRY_CAST({column} AS event_name) IS NULL THEN {column} END AS other_{column}"
            for column in _NAMES
        )
        # A kind, outcome or channel that is none of the models' is read as NULL: such a line is no
        # step or journey, no outcome and no channel (filtering it out would cost a fifth of the scan).
        # Only what judgement needs, narrow: journey ids hashed to 64 bits (enough to group and join
        # ten million events), and the details (message, evidence, status, worker, the id itself)
        # kept only for the attempts detectors look at.
        self.db.execute(
            f"""CREATE TABLE events AS SELECT
                {typed["kind"]} AS kind, time, {names}, {typed["outcome"]} AS outcome, duration_ms,
                hash(journey_id) AS jid, {typed["channel"]} AS channel, applicant,
                attempt, seq, lag_ms, file_index AS source, {others},
                CASE WHEN {DETAILED} THEN journey_id END AS journey_id,
                CASE WHEN {DETAILED} THEN worker END AS worker,
                CASE WHEN {DETAILED} THEN status END AS status,
                CASE WHEN {DETAILED} THEN message END AS message,
                CASE WHEN {DETAILED} THEN evidence END AS evidence
            FROM {source}"""
        )
        self._widen_names()
        # Harnesses before attempts were announced left none: nothing to close or pair.
        self.announced = bool(self.scalar("SELECT count(*) FROM events WHERE kind = 'attempt'"))
        if self.announced and not self.live:
            self.db.execute(_CLOSE_UNFINISHED)
        self.db.execute(
            "CREATE VIEW steps AS SELECT * EXCLUDE (kind, failed_step, lag_ms, source) FROM events WHERE kind = 'step'"
        )
        self.db.execute(
            "CREATE VIEW journeys AS SELECT time, journey, jid, journey_id, outcome, duration_ms, channel, applicant, "
            "failed_step, lag_ms FROM events WHERE kind = 'journey'"
        )

    def _widen_names(self) -> None:
        """Names the harness does not know (a folder of another version): the name enum grows
        by them and the columns are rewritten; nothing to do for a folder of this version."""
        union = " UNION ".join(f"SELECT other_{column} FROM events" for column in _NAMES)
        others = [name for (name,) in self.rows(f"SELECT * FROM ({union}) names(name) WHERE name IS NOT NULL")]
        if others:
            widened = sorted(set(others) | {row[0] for row in self.rows("SELECT unnest(enum_range(NULL::event_name))")})
            self.db.execute(f"CREATE TYPE wide_name AS ENUM ({', '.join(_sql_text(v) for v in widened)})")
            for column in _NAMES:
                self.db.execute(
                    f"ALTER TABLE events ALTER {column} TYPE wide_name "
                    f"USING coalesce({column}::VARCHAR, other_{column})::wide_name"
                )
        for column in _NAMES:
            self.db.execute(f"ALTER TABLE events DROP COLUMN other_{column}")

    def close(self) -> None:
        self.db.close()
        self._scratch.cleanup()

    def __enter__(self) -> Results:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- what the folder says ----------------------------------------------------------------

    @property
    def status(self) -> str:
        """The manifest's status; ``aborted`` when it says running but the harness that ran it is
        gone (killed or crashed before it could write the end)."""
        status = self.manifest.status or "unknown"
        if status == "running" and not conductor_alive(self.manifest):
            return "aborted"
        return status

    @property
    def partial(self) -> bool:
        """The run did not end normally (interrupted, a worker lost, the harness killed)."""
        return self.status != "complete"

    def read_json(self, name: str) -> Any:
        path = self.folder / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ConfigError(str(path), f"not readable JSON ({exc})") from None

    # --- queries -----------------------------------------------------------------------------

    def scalar(self, sql: str, *params: object) -> Any:
        row = self.db.execute(sql, list(params)).fetchone()
        return row[0] if row else None

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        return self.db.execute(sql, list(params)).fetchall()

    def attempts(self) -> dict[str, tuple[int, int, int, int]]:
        """Per step, in one pass: (attempts started and not withdrawn, attempts closed here as
        unfinished, attempts withdrawn, attempts recorded with more than one outcome). Results of
        harnesses that did not announce attempts count each outcome as its own attempt."""
        if self._attempts is not None:
            return self._attempts
        if not self.announced:
            self._attempts = {step: (sum(counts.values()), 0, 0, 0) for step, counts in self.step_counts().items()}
            return self._attempts
        query = f"""
            SELECT step,
                sum(CASE WHEN announced = 0 THEN outcomes WHEN withdrawn > 0 THEN 0 ELSE announced END),
                sum(unfinished), sum(withdrawn), count(*) FILTER (WHERE outcomes > 1 AND seq IS NOT NULL)
            FROM (
                SELECT step, seq, count(*) FILTER (WHERE kind = 'attempt') AS announced,
                    count(*) FILTER (WHERE kind = 'step') AS outcomes,
                    count(*) FILTER (WHERE kind = 'withdrawn') AS withdrawn,
                    count(*) FILTER (WHERE kind = 'step' AND message = '{UNFINISHED_MESSAGE}') AS unfinished
                FROM events WHERE kind IN ('attempt', 'step', 'withdrawn') GROUP BY jid, step, attempt, seq
            ) GROUP BY step"""
        self._attempts = {
            step: (int(started), int(unfinished), int(withdrawn), int(twice))
            for step, started, unfinished, withdrawn, twice in self.rows(query)
        }
        return self._attempts

    def step_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for step, outcome, n in self.rows("SELECT step, outcome, count(*) FROM steps GROUP BY ALL"):
            counts.setdefault(step, {})[outcome] = int(n)
        return counts

    def step_quantiles(self, where: str = "TRUE") -> dict[str, Quantiles]:
        found = {}
        query = (
            "SELECT step, quantile_cont(duration_ms, [0.5, 0.95, 0.99]), max(duration_ms) "
            f"FROM steps WHERE {where} GROUP BY step"
        )
        for step, (p50, p95, p99), longest in self.rows(query):
            found[step] = Quantiles(float(p50), float(p95), float(p99), float(longest))
        return found

    def ratio(self, good_sql: str, total_sql: str, *, durations: Collection[float] = ()) -> tuple[int, int]:
        """(good, total) events of an SLO, by two boolean SQL expressions over the steps."""
        return self.ratios([(good_sql, total_sql)], durations=durations)[0]

    def ratios(self, selectors: list[tuple[str, str]], *, durations: Collection[float] = ()) -> list[tuple[int, int]]:
        """(good, total) of many SLOs: boolean SQL expressions over the columns ``step``,
        ``outcome``, ``channel`` and ``duration_ms`` of the steps, where ``duration_ms`` is only
        compared as ``duration_ms <= X`` with X one of ``durations``.

        The steps are first counted by cell (step, outcome, channel, and the duration rounded up
        to the next of ``durations``, or infinity past the last): a few thousand cells however long
        the campaign. A duration d and its cell's bound b answer ``<= X`` alike for every X of
        ``durations`` (d ≤ X ⇔ b ≤ X, as b is the least of them ≥ d), so the counts are exact."""
        if not selectors:
            return []
        bounds = sorted({float(d) for d in durations})
        rounded = "".join(f" WHEN duration_ms <= {bound!r} THEN {bound!r}::DOUBLE" for bound in bounds)
        cells = (
            f"SELECT step, outcome, channel, CASE{rounded} WHEN duration_ms IS NOT NULL THEN 'inf'::DOUBLE END "
            "AS duration_ms, count(*) AS n FROM steps GROUP BY ALL"
        )
        columns = ", ".join(
            f"coalesce(sum(n) FILTER (WHERE ({good}) AND ({total})), 0), coalesce(sum(n) FILTER (WHERE {total}), 0)"
            for good, total in selectors
        )
        row = self.db.execute(f"SELECT {columns} FROM ({cells})").fetchone()
        assert row is not None
        return [(int(row[2 * i]), int(row[2 * i + 1])) for i in range(len(selectors))]

    def first_time(self) -> float | None:
        value = self.scalar("SELECT min(time) FROM events")
        return float(value) if value is not None else None

    def last_time(self) -> float | None:
        """When the last recorded step ended (epoch seconds)."""
        value = self.scalar("SELECT max(time + coalesce(duration_ms, 0) / 1000) FROM events")
        return float(value) if value is not None else None

    def events_where(self, where: str) -> Iterator[StepEvent]:
        """Step events matching a condition, in time order (for detectors)."""
        # A cursor of its own: detectors may read in one thread while other queries run in another.
        cursor = self.db.cursor()
        cursor.execute(
            "SELECT time, journey, step, outcome, duration_ms, journey_id, worker, channel, applicant, attempt, "
            f"status, message, evidence, seq FROM steps WHERE {where} ORDER BY time, journey_id, seq, attempt"
        )
        while batch := cursor.fetchmany(10_000):
            for row in batch:
                at, journey, step, outcome, ms, jid, worker, channel, applicant, attempt, status, message, ids, seq = (
                    row
                )
                yield StepEvent(
                    time=at,
                    journey=journey,
                    step=step,
                    outcome=Outcome(outcome),
                    duration_ms=ms,
                    journey_id=jid or "",
                    worker=worker or "",
                    channel=channel or "api",
                    applicant=applicant,
                    attempt=attempt or 1,
                    status=status,
                    message=message or "",
                    evidence=orjson.loads(ids) if ids else {},
                    seq=seq or 0,
                )
        cursor.close()


def _load_manifest(folder: Path) -> ManifestFile:
    manifest = load_manifest(folder)
    if not (folder / "events").is_dir():
        raise ConfigError(str(folder), "not a results folder: events/ is missing")
    return manifest


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
