"""The conductor's calls to the platform's admin API: faults, ledger, health."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from contracts.admin import Ledger, LedgerEntry
from contracts.fault_set import FaultSet
from core.errors import HarnessError, TargetError


class AdminClient:
    def __init__(self, target: str, token: str) -> None:
        self.target = target
        self._http = httpx.Client(base_url=target, headers={"Authorization": f"Bearer {token}"}, timeout=15.0)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise TargetError(f"{self.target}{path}: unreachable ({exc.__class__.__name__})") from None
        if response.status_code != 200:
            raise TargetError(f"{self.target}{path} answered {response.status_code}: {response.text[:200]}")
        return response

    def set_faults(self, faults: FaultSet) -> None:
        self._call("PUT", "/_admin/faults", json=faults.model_dump(mode="json", exclude_none=True))

    def ledger(self) -> list[LedgerEntry]:
        return Ledger.model_validate_json(self._call("GET", "/_admin/ledger").content).entries


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
