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

import os
import threading
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Literal

import msgspec

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


FORMAT = 2  # of the event lines; the results folder's manifest carries it (``events_format``)


class StepEvent(msgspec.Struct, frozen=True, tag="step", tag_field="kind"):
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
    evidence: dict[str, str] = msgspec.field(default_factory=dict)
    seq: int = 0  # the attempt's number within its journey (a step may run several times: one per document)

    @property
    def seconds(self) -> float:
        return self.duration_ms / 1000

    @property
    def ended(self) -> float:
        """When the attempt ended (a watch: its deadline for ``lost``)."""
        return self.time + self.duration_ms / 1000


class JourneyEvent(msgspec.Struct, frozen=True, tag="journey", tag_field="kind"):
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


class AttemptEvent(msgspec.Struct, frozen=True, tag="attempt", tag_field="kind"):
    """The start of one attempt of one step; its ``StepEvent`` (same journey id and ``seq``)
    closes it, or a ``WithdrawnEvent`` withdraws it."""

    time: float
    journey: str
    step: str
    journey_id: str
    worker: str
    channel: Channel = "api"
    applicant: int | None = None
    attempt: int = 1
    seq: int = 0


class WithdrawnEvent(AttemptEvent, frozen=True, tag="withdrawn", tag_field="kind"):
    """An attempt withdrawn instead of closed: it turned out not to apply (an agent moved the
    dossier on meanwhile) or the run stopped during it. ``reason`` is written as ``message``."""

    reason: str = msgspec.field(default="", name="message")


Event = StepEvent | JourneyEvent | AttemptEvent | WithdrawnEvent
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Event)
_STEP_DECODER = msgspec.json.Decoder(StepEvent)


def encode(event: Event) -> bytes:
    """One JSON line (with its newline)."""
    return _ENCODER.encode(event) + b"\n"


def decode(line: bytes) -> Event:
    """One event line; ``msgspec.ValidationError`` or ``msgspec.DecodeError`` if it is not one."""
    return _DECODER.decode(line)


def step_event(fields: Mapping[str, Any]) -> StepEvent:
    """A step event from a row of the results store (a mapping of its columns)."""
    return msgspec.convert(fields, StepEvent, strict=False)


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
        self.size = self._file.tell()  # bytes in the file: a worker's spool is read back by offset

    def write_lines(self, lines: bytes) -> None:
        """Whole lines already encoded (a worker's batch, on the master), in one write."""
        if not lines.endswith(b"\n"):
            raise ValueError(f"{self.path}: a batch must end with a whole line")
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError(f"{self.path}: event log is closed")
            self._file.write(lines)
            self._dirty = True
            self.written += lines.count(b"\n")
            self.size += len(lines)

    def write(self, event: Event) -> None:
        line = encode(event)
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError(f"{self.path}: event log is closed")
            self._file.write(line)
            self._dirty = True
            self.written += 1
            self.size += len(line)

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
