"""Step and journey events: what every step of every journey leaves behind, and the log that keeps them.

The names and outcomes are the contracts of DESIGN.md: steps are ``journey.step``; a step ends
in exactly one ``Outcome``. Each attempt is announced when it starts (``AttemptEvent``) and closed
by its ``StepEvent``, so that an attempt a crash cut short is still accounted for (judgement
closes it as ``error``, see ``checks.store``). Events are written as JSON Lines, one file per
load process: each line goes to the operating system as it is written (a killed process loses
nothing it recorded) and the file is fsynced every second (a machine that loses power loses at
most the last second).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Literal

Channel = Literal["api", "browser", "agent"]


class Outcome(StrEnum):
    """How a step ended (DESIGN.md, "Outcomes")."""

    OK = "ok"
    ERROR = "error"  # unexpected status or transport failure
    TIMEOUT = "timeout"
    BLOCKED = "blocked"  # a business refusal the oracle says is wrong
    LOST = "lost"  # not visible where it must be by its deadline
    CORRUPT = "corrupt"  # visible but different (another SHA-256, another state)
    MISSING = "missing"  # a procedure or page element that should be offered is absent


class JourneyOutcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    ABANDONED = "abandoned"  # the persona gave up (abandonment), no step failed
    SKIPPED = "skipped"  # the applicant's situation changed before the journey could apply


@dataclass(frozen=True, slots=True)
class StepEvent:
    """One attempt of one step. ``time`` is when the step was due to start (epoch seconds):
    for the first step of an open-model journey, its scheduled arrival, so that a late start
    counts in ``duration_ms``."""

    time: float
    journey: str
    step: str  # "journey.step"
    outcome: Outcome
    duration_ms: float
    journey_id: str
    worker: str
    channel: Channel = "api"
    applicant: int | None = None
    attempt: int = 1
    status: int | None = None
    message: str = ""
    evidence: Mapping[str, str] = field(default_factory=dict)
    seq: int = 0  # the attempt's number within its journey (a step may run several times: one per document)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": "step",
            "time": round(self.time, 6),
            "journey": self.journey,
            "step": self.step,
            "outcome": self.outcome.value,
            "duration_ms": round(self.duration_ms, 3),
            "journey_id": self.journey_id,
            "worker": self.worker,
            "channel": self.channel,
            "applicant": self.applicant,
            "attempt": self.attempt,
        }
        if self.seq:
            data["seq"] = self.seq
        if self.status is not None:
            data["status"] = self.status
        if self.message:
            data["message"] = self.message
        if self.evidence:
            data["evidence"] = dict(self.evidence)
        return data


@dataclass(frozen=True, slots=True)
class JourneyEvent:
    """The end of one journey: the funnel is built from these."""

    time: float  # when it started (scheduled start in the open model)
    journey: str
    journey_id: str
    outcome: JourneyOutcome
    duration_ms: float
    worker: str
    channel: Channel = "api"
    applicant: int | None = None
    failed_step: str | None = None
    lag_ms: float = 0.0  # how late the journey started against its schedule (open model)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "journey",
            "time": round(self.time, 6),
            "journey": self.journey,
            "journey_id": self.journey_id,
            "outcome": self.outcome.value,
            "duration_ms": round(self.duration_ms, 3),
            "worker": self.worker,
            "channel": self.channel,
            "applicant": self.applicant,
            "failed_step": self.failed_step,
            "lag_ms": round(self.lag_ms, 3),
        }


@dataclass(frozen=True, slots=True)
class AttemptEvent:
    """The start of one attempt of one step; its ``StepEvent`` (same journey id and ``seq``)
    closes it. With ``withdrawn`` (the reason), the attempt is withdrawn instead: it turned out
    not to apply (an agent moved the dossier on meanwhile) or the run stopped during it."""

    time: float
    journey: str
    step: str
    journey_id: str
    worker: str
    channel: Channel = "api"
    applicant: int | None = None
    attempt: int = 1
    seq: int = 0
    withdrawn: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": "withdrawn" if self.withdrawn else "attempt",
            "seq": self.seq,
            "time": round(self.time, 6),
            "journey": self.journey,
            "step": self.step,
            "journey_id": self.journey_id,
            "worker": self.worker,
            "channel": self.channel,
            "applicant": self.applicant,
            "attempt": self.attempt,
        }
        if self.withdrawn:
            data["message"] = self.withdrawn
        return data


Event = StepEvent | JourneyEvent | AttemptEvent


class EventLog:
    """An append-only JSON Lines file of events, safe for concurrent writers.

    Each event is one ``write(2)`` of a whole line as it is recorded, so a process killed at any
    moment leaves every event it recorded in the file; a background thread (a greenlet under
    Locust) fsyncs the file every ``flush_interval`` seconds, and ``close()`` fsyncs. A reader may
    see a last partial line while the file grows: readers skip lines that do not end in a newline.
    """

    def __init__(self, path: Path, *, flush_interval: float = 1.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Unbuffered binary: a line reaches the operating system in one write, never half of it.
        self._file: IO[bytes] = path.open("ab", buffering=0)
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._interval = flush_interval
        self._dirty = False
        self._flusher = threading.Thread(target=self._flush_loop, name=f"event-log {path.name}", daemon=True)
        self._flusher.start()
        self.written = 0

    def write(self, event: Event) -> None:
        line = (json.dumps(event.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError(f"{self.path}: event log is closed")
            self._file.write(line)
            self._dirty = True
            self.written += 1

    def flush(self) -> None:
        """Make what was written durable (fsync), if anything was written since the last time."""
        with self._lock:
            if not self._dirty or self._closed.is_set():
                return
            self._dirty = False
            descriptor = self._file.fileno()
        os.fsync(descriptor)  # outside the lock: writers go on meanwhile

    def close(self) -> None:
        if self._closed.is_set():
            return
        self.flush()
        with self._lock:
            self._closed.set()
            self._file.close()

    def _flush_loop(self) -> None:
        while not self._closed.wait(self._interval):
            try:
                self.flush()
            except (ValueError, OSError):  # closed between the wait and the flush
                return
