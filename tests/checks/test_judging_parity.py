"""The store that keeps events in a compressed DuckDB file judges as the in-memory one did: the same
summary, SLOs, defects, rights at risk and verdict (``tests/checks/judging_parity.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.processing import generate
from checks.evaluate import evaluate
from checks.slo import default_slo_path, load_slos
from checks.store import UNFINISHED_MESSAGE, Results
from scenarios.events import (
    AttemptEvent,
    Channel,
    Event,
    JourneyEvent,
    JourneyOutcome,
    Outcome,
    StepEvent,
    WithdrawnEvent,
    encode,
)
from tests.checks.judging_parity import compare, first_difference

T = 1.79e9


def attempt(step: str, journey_id: str, time: float, *, seq: int = 0, channel: Channel = "api") -> AttemptEvent:
    journey = step.split(".")[0]
    return AttemptEvent(time, journey, step, journey_id, "worker-9", channel=channel, applicant=7, seq=seq)


def outcome(
    step: str, journey_id: str, time: float, result: str = "ok", *, seq: int = 0, ms: float = 35.0, **fields: Any
) -> StepEvent:
    journey = step.split(".")[0]
    return StepEvent(time, journey, step, Outcome(result), ms, journey_id, "worker-9", applicant=7, seq=seq, **fields)


def announced_run() -> list[Event]:
    """A third load process of a newer harness: attempts announced and closed, one withdrawn, one
    never closed (its process was killed), browser steps, and a step of another harness version."""
    events: list[Event] = []
    for n in range(40):
        jid, at = f"b-{n}", T + n
        for seq, step in enumerate(("renewal.choose_procedure", "renewal.create", "renewal.upload")):
            channel: Channel = "browser" if n % 4 == 0 else "api"
            events.append(attempt(step, jid, at + seq, seq=seq, channel=channel))
            if n == 39 and seq == 2:
                break  # killed during its upload: closed as unfinished by judgement
            if n == 38 and seq == 2:
                events.append(WithdrawnEvent(at + seq, "renewal", step, jid, "worker-9", seq=seq, reason="moved on"))
                continue
            result = "lost" if n % 9 == 0 and seq == 2 else "ok"
            events.append(
                outcome(step, jid, at + seq, result, seq=seq, channel=channel, ms=2500.0 if n % 7 == 0 else 35.0)
            )
        events.append(JourneyEvent(at, "renewal", jid, JourneyOutcome.OK, 400.0, "worker-9", applicant=7))
    events.append(outcome("renewal.legacy_receipt", "old-1", T + 50, "error", status=500, message="boom"))
    events.append(
        JourneyEvent(T + 50, "appointment", "old-2", JourneyOutcome.FAILED, 9.0, "worker-9", failed_step="x.y")
    )
    return events


def small_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "results"
    generate(folder, 6_000, seed=3)
    lines = b"".join(encode(event) for event in announced_run())
    (folder / "events" / "worker-9.jsonl").write_bytes(lines + b'{"kind":"step","time":1.8e9,"journey":"log')
    return folder


def test_the_compressed_store_judges_a_folder_as_the_in_memory_one_did(tmp_path: Path) -> None:
    folder = small_folder(tmp_path)

    old, new, _ = compare(folder)

    assert first_difference(old, new) is None
    summary = new["summary"]
    # The folder exercises what could differ: breached SLOs, defects, unfinished, withdrawn, a
    # step this harness does not know, browser steps, and the durations SLOs compare with.
    assert summary["verdict"] == "fail"
    assert any(not slo["met"] for slo in summary["slos"])
    assert summary["defects"]
    assert summary["rights_at_risk"]["failed_renewals"]
    assert summary["accounting"]["unfinished"] == 1
    assert summary["accounting"]["withdrawn"] == 1
    assert summary["steps"]["renewal.legacy_receipt"]["outcomes"]["error"] == 1
    assert summary["journeys"]["appointment"]["failed_at"] == {"x.y": 1}


def test_a_difference_is_reported_where_it_is(tmp_path: Path) -> None:
    folder = small_folder(tmp_path)
    old, new, _ = compare(folder)
    new["summary"]["slos"][3]["good"] += 1

    assert first_difference(old, new) == (
        f".summary.slos[3].good: {old['summary']['slos'][3]['good']!r} before, "
        f"{old['summary']['slos'][3]['good'] + 1!r} now"
    )


def test_an_unfinished_attempt_keeps_its_message_in_the_compressed_store(tmp_path: Path) -> None:
    folder = small_folder(tmp_path)
    with Results(folder) as results:
        messages = results.rows("SELECT message FROM steps WHERE step = 'renewal.upload' AND jid = hash('b-39')")
    assert messages == [(UNFINISHED_MESSAGE,)]
    assert evaluate(folder, load_slos(default_slo_path())).accounting.unfinished == 1
