"""The fault schedule: the campaign's changes (faults set, drills run) applied at their moments.

A change that fails (the platform down, a drill that cannot act) is recorded with its error and
the campaign goes on; the conductor writes what was applied, and when, into the manifest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import HarnessError, TargetError


@dataclass(frozen=True)
class AppliedChange:
    at: float  # seconds since the load started, as planned
    applied: float  # epoch seconds when the change took effect (or failed)
    label: str
    error: str | None = None
    started: float = 0.0  # epoch seconds when it began (a restart takes a few seconds)
    note: str | None = None  # what a drill did, in words


# A change: faults set through the admin API, or a drill; returns what it did (or None).
Action = Callable[[], str | None]


class FaultSchedule:
    """Applies the schedule's changes at their moments, in a thread; records when each took
    effect. A change that fails (the platform down, a drill that cannot act) is recorded with its
    error and the campaign goes on."""

    def __init__(self, changes: list[tuple[float, str, Action]], *, after: Callable[[], None] | None = None) -> None:
        self.changes = changes
        self.after = after  # called after each change (the conductor looks at its dependencies)
        self.applied: list[AppliedChange] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, t0: float) -> None:
        self._thread = threading.Thread(target=self._run, args=(t0,), name="fault-schedule", daemon=True)
        self._thread.start()

    def _run(self, t0: float) -> None:
        for at, label, action in self.changes:
            if self._stop.wait(max(0.0, t0 + at - time.time())):
                return
            started = time.time()
            try:
                note = action()
                self.applied.append(AppliedChange(at, time.time(), label, started=started, note=note))
            except (TargetError, HarnessError) as exc:  # the platform may be down: the campaign goes on
                self.applied.append(AppliedChange(at, time.time(), label, str(exc), started=started))
            if self.after is not None:
                self.after()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
