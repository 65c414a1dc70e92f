"""Accounting: every attempt started ends in exactly one recorded outcome, whatever stopped the
process that ran it; a results folder left by a killed harness says so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import msgspec

from checks.evaluate import evaluate
from checks.store import UNFINISHED_MESSAGE, Results
from scenarios.events import AttemptEvent, Event, Outcome, StepEvent, WithdrawnEvent, encode
from scenarios.manifest import new_manifest, process_identity


def attempt(step: str, journey_id: str, time: float, number: int = 1, seq: int | None = None) -> AttemptEvent:
    return AttemptEvent(
        time=time,
        journey=step.split(".")[0],
        step=step,
        journey_id=journey_id,
        worker="locust-worker-1",
        channel="api",
        applicant=3,
        attempt=number,
        seq=seq or 0,
    )


def outcome(
    step: str, journey_id: str, time: float, result: str = "ok", number: int = 1, seq: int | None = None
) -> StepEvent:
    return StepEvent(
        time=time,
        journey=step.split(".")[0],
        step=step,
        outcome=Outcome(result),
        duration_ms=40.0,
        journey_id=journey_id,
        worker="locust-worker-1",
        channel="api",
        applicant=3,
        attempt=number,
        seq=seq or 0,
    )


def older(event: StepEvent) -> bytes:
    """The line of a harness before sequence numbers: no ``seq``."""
    fields = msgspec.to_builtins(event)
    del fields["seq"]
    return json.dumps(fields).encode() + b"\n"


def results_folder(tmp_path: Path, files: dict[str, list[Event | bytes]], **manifest: Any) -> Path:
    folder = tmp_path / "run"
    (folder / "events").mkdir(parents=True)
    for name, events in files.items():
        lines = b"".join(event if isinstance(event, bytes) else encode(event) for event in events)
        (folder / "events" / name).write_bytes(lines)
    data = new_manifest(**{"campaign": "accounting", "status": "complete", **manifest})
    (folder / "manifest.json").write_text(data.json_text(), encoding="utf-8")
    return folder


# One worker ran two steps to their end, retried one, and was killed during a fourth attempt;
# another file comes from a harness that did not announce attempts.
WORKER: list[Event | bytes] = [
    attempt("login.submit", "a", 10.0, seq=1),
    outcome("login.submit", "a", 10.0, seq=1),
    attempt("login.dashboard", "a", 10.1, seq=2),
    outcome("login.dashboard", "a", 10.1, "error", seq=2),
    attempt("login.dashboard", "a", 11.0, number=2, seq=3),
    outcome("login.dashboard", "a", 11.0, number=2, seq=3),
    attempt("login.submit", "b", 12.0, seq=1),
    outcome("login.submit", "b", 12.0, seq=1),
    attempt("login.dashboard", "b", 12.5, seq=2),  # killed here: its last event is at 12.5
]
# An older harness: no attempts announced, no sequence numbers; a step run twice in one journey
# (one upload per document) is two attempts, not a duplicate.
OLDER: list[Event | bytes] = [
    older(outcome("login.submit", "c", 5.0)),
    older(outcome("login.submit", "d", 6.0, "timeout")),
    older(outcome("renewal.upload", "e", 7.0)),
    older(outcome("renewal.upload", "e", 7.5)),
]


def test_an_attempt_cut_short_is_closed_as_error_once_the_run_is_over(tmp_path: Path) -> None:
    folder = results_folder(tmp_path, {"locust-worker-1.jsonl": WORKER, "older.jsonl": OLDER}, status="partial")
    summary = evaluate(folder, [])
    dashboard = summary.steps["login.dashboard"]
    assert dashboard.attempted == 3
    assert dashboard.outcomes["ok"] == 1
    assert dashboard.outcomes["error"] == 2
    assert dashboard.unfinished == 1
    submit = summary.steps["login.submit"]
    assert (submit.attempted, submit.total, submit.unfinished) == (4, 4, 0)
    assert summary.steps["renewal.upload"].attempted == 2
    for figures in summary.steps.values():
        assert figures.attempted == sum(figures.outcomes.values())
    assert summary.accounting.model_dump() == {
        "attempted": 9,
        "outcomes": 9,
        "unfinished": 1,
        "withdrawn": 0,
        "duplicates": 0,
    }
    with Results(folder) as results:
        [closed] = results.events_where("evidence->>'unfinished' = 'true'")
    assert closed.step == "login.dashboard"
    assert closed.outcome == "error"
    assert closed.message == UNFINISHED_MESSAGE
    assert closed.worker == "locust-worker-1"
    assert closed.duration_ms == 0.0


def test_an_attempt_in_flight_while_the_harness_runs_is_not_closed(tmp_path: Path) -> None:
    folder = results_folder(tmp_path, {"locust-worker-1.jsonl": WORKER}, status="running", conductor=process_identity())
    with Results(folder) as results:
        assert results.status == "running"
        assert results.live
        assert results.attempts()["login.dashboard"] == (3, 0, 0, 0)
        assert results.step_counts()["login.dashboard"] == {"error": 1, "ok": 1}


def test_a_run_whose_harness_is_gone_is_aborted_and_closed(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    identity = process_identity().model_copy(update={"pid": int(gone.stdout)})
    folder = results_folder(tmp_path, {"locust-worker-1.jsonl": WORKER}, status="running", conductor=identity)
    summary = evaluate(folder, [])
    assert summary.status == "aborted"
    assert summary.partial
    assert summary.steps["login.dashboard"].unfinished == 1


def test_an_attempt_recorded_twice_is_counted_as_a_duplicate(tmp_path: Path) -> None:
    twice: list[Event | bytes] = [
        attempt("login.submit", "a", 1.0, seq=1),
        outcome("login.submit", "a", 1.0, seq=1),
        outcome("login.submit", "a", 1.0, seq=1),
    ]
    summary = evaluate(results_folder(tmp_path, {"w.jsonl": twice}), [])
    assert summary.accounting.duplicates == 1
    assert summary.accounting.attempted != summary.accounting.outcomes


def test_a_killed_process_leaves_every_event_it_recorded(tmp_path: Path) -> None:
    """The event log writes each line through to the operating system as it is recorded."""
    path = tmp_path / "events.jsonl"
    script = textwrap.dedent(
        f"""
        import os, signal
        from scenarios.events import EventLog, StepEvent, Outcome
        log = EventLog(__import__("pathlib").Path({str(path)!r}), flush_interval=3600)
        for n in range(500):
            log.write(StepEvent(time=n, journey="login", step="login.submit", outcome=Outcome.OK,
                                duration_ms=1.0, journey_id=str(n), worker="w"))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2], check=False)
    assert done.returncode == -signal.SIGKILL
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) == 500
    assert all(line.endswith(b"\n") for line in lines)
    assert json.loads(lines[-1])["journey_id"] == "499"
    assert os.path.getsize(path) == sum(len(line) for line in lines)


def test_a_withdrawn_attempt_is_neither_attempted_nor_closed(tmp_path: Path) -> None:
    """An attempt that turned out not to apply, or that the run's end stopped, is withdrawn."""
    announced = attempt("agent_request.send", "a", 2.0, seq=1)
    withdrawn = WithdrawnEvent(**msgspec.structs.asdict(announced), reason="stopped")
    events: list[Event | bytes] = [
        attempt("agent_request.send", "a", 2.0, seq=1),
        withdrawn,
        attempt("agent_request.send", "b", 3.0, seq=1),
    ]
    summary = evaluate(results_folder(tmp_path, {"w.jsonl": events}), [])
    figures = summary.steps["agent_request.send"]
    assert (figures.attempted, figures.withdrawn, figures.unfinished) == (1, 1, 1)
    assert figures.outcomes["error"] == 1
