"""The injector: decides whether a fault fires on an eligible event and writes the ledger.

Callers name the fault and the event (applicant, object, route); the injector applies rate,
scope and window, records the firing and hands back the active spec so its parameters can be
read. Whether an event is eligible is the caller's business, never the injector's.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import select

from contracts.fault_set import FaultSet, FaultSpec
from contracts.faults import CATALOGUE
from reference_platform.storage.db import Store
from reference_platform.storage.platform import LedgerEntry


def sticky_draw(fault_id: str, applicant: str) -> float:
    """A number in [0, 1) fixed for a (fault, applicant) pair: the same people every time."""
    digest = hashlib.blake2b(f"{fault_id}\0{applicant}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class FaultInjector:
    def __init__(
        self,
        ledger: Store,
        *,
        seed: int | None = None,
        on_fire: Callable[[str], None] | None = None,
    ) -> None:
        self._ledger = ledger
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._faults: tuple[FaultSpec, ...] = ()
        self._by_id: dict[str, tuple[FaultSpec, ...]] = {}
        self._on_fire = on_fire
        self._draws: Counter[str] = Counter()  # eligible events drawn for, per fault id, since start

    @property
    def active(self) -> FaultSet:
        return FaultSet(faults=list(self._faults))

    def replace(self, fault_set: FaultSet) -> None:
        """Replace the whole active set atomically."""
        by_id: dict[str, list[FaultSpec]] = {}
        for spec in fault_set.faults:
            by_id.setdefault(spec.id, []).append(spec)
        with self._lock:
            self._faults = tuple(fault_set.faults)
            self._by_id = {key: tuple(specs) for key, specs in by_id.items()}

    def specs(self, fault_id: str) -> tuple[FaultSpec, ...]:
        """The active specs of one fault id (usually zero or one)."""
        return self._by_id.get(fault_id, ())

    def fire(
        self,
        fault_id: str,
        *,
        route: str,
        applicant: str | None = None,
        obj: str | None = None,
        path: str | None = None,
    ) -> FaultSpec | None:
        """Decide one eligible event; on a firing, write the ledger and return the spec."""
        assert fault_id in CATALOGUE, fault_id
        specs = self._by_id.get(fault_id)
        if not specs:
            return None
        now = datetime.now(UTC)
        for spec in specs:
            if not self._in_scope(spec, now, route=route, path=path, applicant=applicant):
                continue
            with self._lock:
                draw = self._random.random()
                self._draws[fault_id] += 1
            if draw < spec.rate:
                self._record(fault_id, now=now, route=route, applicant=applicant, obj=obj)
                return spec
            return None
        return None

    @staticmethod
    def _in_scope(spec: FaultSpec, now: datetime, *, route: str, path: str | None, applicant: str | None) -> bool:
        if spec.window is not None and not spec.window.contains(now):
            return False
        scope = spec.scope
        if scope is None:
            return True
        if scope.routes is not None and not any(
            fnmatch.fnmatchcase(route, pattern) or (path is not None and fnmatch.fnmatchcase(path, pattern))
            for pattern in scope.routes
        ):
            return False
        return not (scope.share is not None and (applicant is None or sticky_draw(spec.id, applicant) >= scope.share))

    def _record(self, fault_id: str, *, now: datetime, route: str, applicant: str | None, obj: str | None) -> None:
        with self._ledger.write() as session:
            session.add(LedgerEntry(time=now, fault=fault_id, applicant=applicant, object=obj, route=route))
        if self._on_fire is not None:
            self._on_fire(fault_id)

    def draws(self) -> dict[str, int]:
        """Per fault id, the eligible events drawn for since the platform started (kept in memory:
        a restart starts again from zero)."""
        with self._lock:
            return dict(self._draws)

    def ledger(self, since: datetime | None = None, limit: int = 100_000) -> list[LedgerEntry]:
        query = select(LedgerEntry).order_by(LedgerEntry.seq).limit(limit)
        if since is not None:
            query = query.where(LedgerEntry.time >= since)
        with self._ledger.read() as session:
            return list(session.scalars(query))


# --- answers held back -----------------------------------------------------------------------
# A fault that makes an answer late (user_enumeration by timing) is decided inside a request
# handler, on one of the platform's few worker threads: sleeping there would stall every other
# request behind it. The edge gives each request a holder; the handler adds the delay to it
# (worker threads run in a copy of the request's context, so they see the same holder) and the
# edge waits, without blocking anything, before the answer starts.
_HELD: ContextVar[list[float] | None] = ContextVar("anef_answer_held", default=None)


@contextlib.contextmanager
def held_answer() -> Iterator[list[float]]:
    """The holder of the current request's delays (the edge, around the application)."""
    holder: list[float] = []
    token = _HELD.set(holder)
    try:
        yield holder
    finally:
        _HELD.reset(token)


def answer_late(seconds: float) -> None:
    """Hold the current answer back by ``seconds``: at the edge, or here without one."""
    holder = _HELD.get()
    if holder is None:
        time.sleep(seconds)
    else:
        holder.append(seconds)
