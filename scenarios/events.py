"""Step and journey events: what every step of every journey leaves behind, and the log that keeps them.

The names and outcomes are the contracts of DESIGN.md: steps are ``journey.step``; a step ends
in exactly one ``Outcome``. Events are written as JSON Lines, one file per load process, and
flushed to disk at least every second, so a crash of the process loses at most the last second.
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


Event = StepEvent | JourneyEvent


class EventLog:
    """An append-only JSON Lines file of events, safe for concurrent writers.

    Lines are buffered and written by ``flush()``, which a background thread (a greenlet under
    Locust) calls every ``flush_interval`` seconds; ``close()`` flushes and fsyncs. A reader may
    see a last partial line while the file grows: readers skip lines that do not end in a newline.
    """

    def __init__(self, path: Path, *, flush_interval: float = 1.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._interval = flush_interval
        self._flusher = threading.Thread(target=self._flush_loop, name=f"event-log {path.name}", daemon=True)
        self._flusher.start()
        self.written = 0

    def write(self, event: Event) -> None:
        line = json.dumps(event.to_json(), ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError(f"{self.path}: event log is closed")
            self._pending.append(line)

    def flush(self, *, sync: bool = False) -> None:
        with self._lock:
            lines, self._pending = self._pending, []
            if lines:
                self._file.write("\n".join(lines) + "\n")
                self.written += len(lines)
            self._file.flush()
            if sync:
                os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._closed.is_set():
            return
        self.flush(sync=True)
        with self._lock:
            self._closed.set()
            self._file.close()

    def _flush_loop(self) -> None:
        while not self._closed.wait(self._interval):
            try:
                self.flush()
            except ValueError:  # closed between the wait and the flush
                return
