"""The bodies of the platform's admin API (``/_admin``): the ledger of injected faults and the clock.

The fault set (``PUT /_admin/faults``) is ``contracts.fault_set.FaultSet``.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LedgerEntry(Body):
    """One firing of a fault, as the platform records it: the truth the harness is scored against
    (DESIGN.md, principle 3: it never detects)."""

    time: datetime
    fault: str
    applicant: str | None
    object: str | None
    route: str


class Ledger(Body):
    """``GET /_admin/ledger``, and ``ledger.json`` in a results folder."""

    entries: list[LedgerEntry]
    # Per fault id, the eligible events the platform drew for since it started (in scope, whether the
    # fault fired or not): with ``entries``, the rate the platform really injected at, which a
    # campaign's estimate is judged against beside the configured one. Absent in older folders.
    draws: dict[str, int] = Field(default_factory=dict)


class ClockIn(Body):
    today: date | None


class ClockOut(Body):
    today: date
    fixed: bool


class SeedResult(Body):
    applicants: int
    agents: int
    skipped: int
