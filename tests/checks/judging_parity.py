"""The judging of a results folder before DuckDB kept it in a compressed file (in memory, text
columns, every SLO counted by its own filter over the steps), kept as the reference the current
store must agree with: summary, every SLO, defects, rights at risk and verdict.

    PYTHONPATH=. .venv/bin/python -m tests.checks.judging_parity FOLDER

judges FOLDER both ways and prints the first difference, if any (exit 1), or "same verdicts".
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from pydantic import BaseModel

import checks.evaluate
from checks.evaluate import Summary, evaluate
from checks.slo import default_slo_path, load_slos
from checks.store import _CLOSE_UNFINISHED, _COLUMNS, DETAILED, Results, _load_manifest

_OLD_COLUMNS = _COLUMNS | {"evidence": "JSON"}


class LegacyResults(Results):
    """The store as it was: an in-memory database with text columns, SLOs one filter each."""

    def __init__(self, folder: Path, *, memory_limit: str = "600MB", live: bool | None = None) -> None:
        self.folder = folder
        self.manifest = _load_manifest(folder)
        self.live = self.status == "running" if live is None else live
        self._attempts = None
        files = sorted((folder / "events").glob("*.jsonl"))
        self._scratch = tempfile.TemporaryDirectory(prefix="anef-results-")
        self.db = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": self._scratch.name})
        self.db.execute("SET preserve_insertion_order = false")
        self.db.execute("SET enable_progress_bar = false")
        self._load(files)

    def _load(self, files: list[Path]) -> None:
        columns = ", ".join(f"{name}: '{kind}'" for name, kind in _OLD_COLUMNS.items())
        listing = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
        source = (
            f"read_json([{listing}], format = 'newline_delimited', columns = {{{columns}}}, "
            "ignore_errors = true, maximum_object_size = 10485760, filename = true)"
        )
        if not files:
            nulls = ", ".join(f"NULL::{kind} AS {name}" for name, kind in _OLD_COLUMNS.items())
            source = f"(SELECT {nulls}, NULL::VARCHAR AS filename LIMIT 0)"
        self.db.execute(
            f"""CREATE TABLE events AS SELECT
                kind, time, journey, step, outcome, duration_ms, hash(journey_id) AS jid, channel, applicant,
                attempt, seq, failed_step, lag_ms, filename AS source,
                CASE WHEN {DETAILED} THEN journey_id END AS journey_id,
                CASE WHEN {DETAILED} THEN worker END AS worker,
                CASE WHEN {DETAILED} THEN status END AS status,
                CASE WHEN {DETAILED} THEN message END AS message,
                CASE WHEN {DETAILED} THEN evidence END AS evidence
            FROM {source}"""
        )
        self.announced = bool(self.scalar("SELECT count(*) FROM events WHERE kind = 'attempt'"))
        if self.announced and not self.live:
            self.db.execute(_CLOSE_UNFINISHED.replace("' AS evidence", "'::JSON AS evidence"))
        self.db.execute(
            "CREATE VIEW steps AS SELECT * EXCLUDE (kind, failed_step, lag_ms, source) FROM events WHERE kind = 'step'"
        )
        self.db.execute(
            "CREATE VIEW journeys AS SELECT time, journey, jid, journey_id, outcome, duration_ms, channel, applicant, "
            "failed_step, lag_ms FROM events WHERE kind = 'journey'"
        )

    def ratios(self, selectors: list[tuple[str, str]], *, durations: Any = ()) -> list[tuple[int, int]]:
        if not selectors:
            return []
        columns = ", ".join(
            f"count(*) FILTER (WHERE ({good}) AND ({total})), count(*) FILTER (WHERE {total})"
            for good, total in selectors
        )
        row = self.db.execute(f"SELECT {columns} FROM steps").fetchone()
        assert row is not None
        return [(int(row[2 * i]), int(row[2 * i + 1])) for i in range(len(selectors))]


@contextmanager
def legacy_store() -> Iterator[None]:
    """``checks.evaluate`` reads folders the old way inside this block."""
    current = getattr(checks.evaluate, "Results")  # noqa: B009 (not re-exported)
    setattr(checks.evaluate, "Results", LegacyResults)  # noqa: B010
    try:
        yield
    finally:
        setattr(checks.evaluate, "Results", current)  # noqa: B010


def judged(summary: Summary) -> dict[str, Any]:
    """What must not change: summary.json's content (accounting, steps, journeys, SLOs, defects
    with their samples, rights at risk, verdict) and every detection."""
    return {
        "summary": summary.file().model_dump(mode="json"),
        "detections": dict(summary.findings.counts),
        "at_risk": [a.figures().model_dump(mode="json") for a in summary.rights.applicants] if summary.rights else None,
    }


def first_difference(old: Any, new: Any, where: str = "") -> str | None:
    """Where two judgements first differ ("" path for the top), or None when they agree."""
    if isinstance(old, BaseModel) or isinstance(new, BaseModel):
        raise TypeError("compare dumps, not models")
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if key not in old or key not in new:
                return f"{where}.{key}: only in {'the new' if key in new else 'the old'} judgement"
            found = first_difference(old[key], new[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return f"{where}: {len(old)} items before, {len(new)} now"
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            found = first_difference(a, b, f"{where}[{index}]")
            if found:
                return found
        return None
    return None if old == new else f"{where}: {old!r} before, {new!r} now"


def compare(folder: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, float]]:
    """Judge ``folder`` the old way and the current way (every SLO of the default file): both
    judgements and the seconds each took."""
    objectives = load_slos(default_slo_path())
    started = time.perf_counter()
    with legacy_store():
        old = judged(evaluate(folder, objectives))
    middle = time.perf_counter()
    new = judged(evaluate(folder, objectives))
    return old, new, {"old_s": middle - started, "new_s": time.perf_counter() - middle}


def main() -> None:
    folder = Path(sys.argv[1])
    old, new, seconds = compare(folder)
    difference = first_difference(old, new)
    summary = new["summary"]
    print(
        f"{folder}: old {seconds['old_s']:.1f} s, new {seconds['new_s']:.1f} s; verdict {summary['verdict']}, "
        f"{len(summary['slos'])} SLOs ({sum(not s['met'] for s in summary['slos'])} breached), "
        f"{len(summary['defects'])} defects, {summary['accounting']['outcomes']:,} outcomes"
    )
    if difference:
        print(f"different: {difference}")
        sys.exit(1)
    print("same verdicts: summary, SLOs, defects, rights at risk, gate")


if __name__ == "__main__":
    main()
