"""Journeys: registered sequences of steps with the stable names of DESIGN.md.

A journey is a function of a ``Run``, registered with ``@journey``; its name is the key used in
campaign files (``journeys: {renewal: 3, login: 5}``) and the prefix of its step names. Each
journey says which applicants it fits (``eligible``), judged on the oracle's truth, so that a
refusal the platform gives to an eligible applicant is a ``blocked`` step, not noise.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from scenarios.events import Channel, JourneyOutcome
from scenarios.journeys.runner import (
    Abandoned,
    EventSink,
    JourneyContext,
    JourneySettings,
    JourneyStopped,
    NotApplicable,
    Run,
)
from synthetic_users.oracle import Oracle, Truth
from synthetic_users.partition import Lease, LeaseTable
from synthetic_users.population import Applicant, Population

Eligibility = Callable[[Applicant, Truth, Population], bool]


@dataclass(frozen=True)
class JourneyDef:
    name: str
    run: Callable[[Run], None]
    eligible: Eligibility
    steps: tuple[str, ...] = ()
    needs_mailbox: bool = False
    needs_agents: bool = False
    doc: str = ""

    @property
    def step_names(self) -> tuple[str, ...]:
        return tuple(f"{self.name}.{step}" for step in self.steps)


JOURNEYS: dict[str, JourneyDef] = {}


def journey(
    *, eligible: Eligibility, steps: tuple[str, ...], needs_mailbox: bool = False, needs_agents: bool = False
) -> Callable[[Callable[[Run], None]], Callable[[Run], None]]:
    """Register a journey under its function's name, with the steps it may record (in order):
    SLO files and reports name them before any campaign has run."""

    def register(function: Callable[[Run], None]) -> Callable[[Run], None]:
        doc = (function.__doc__ or "").strip().splitlines()
        JOURNEYS[function.__name__] = JourneyDef(
            function.__name__, function, eligible, steps, needs_mailbox, needs_agents, doc[0] if doc else ""
        )
        return function

    return register


class UnknownJourney(KeyError):
    def __init__(self, name: str) -> None:
        close = difflib.get_close_matches(name, JOURNEYS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(sorted(JOURNEYS))}"
        super().__init__(f"unknown journey {name!r}{hint}")
        self.message = f"unknown journey {name!r}{hint}"


def get_journey(name: str) -> JourneyDef:
    load_all()
    try:
        return JOURNEYS[name]
    except KeyError:
        raise UnknownJourney(name) from None


def load_all() -> dict[str, JourneyDef]:
    """Import the modules that register the shipped journeys."""
    from scenarios.journeys import applicant, prefecture, security  # noqa: F401 - registration on import

    return JOURNEYS


def lease_for(
    definition: JourneyDef, leases: LeaseTable, population: Population, oracle: Oracle, *, tries: int = 64
) -> Lease | None:
    """A lease on a free applicant of the partition that the journey fits (by the oracle's
    truth), or None after ``tries`` candidates: the caller then picks another journey."""
    for _ in range(min(tries, len(leases))):
        lease = leases.take_next()
        if lease is None:
            return None
        if definition.eligible(population.applicant(lease.index), oracle.truth(lease.index), population):
            return lease
        lease.release()
    return None


def known_steps() -> dict[str, JourneyDef]:
    """Every step name a shipped journey may record → its journey."""
    return {step: definition for definition in load_all().values() for step in definition.step_names}


def run_journey(
    definition: JourneyDef,
    ctx: JourneyContext,
    sink: EventSink,
    *,
    worker: str,
    channel: Channel = "api",
    scheduled: float | None = None,
) -> JourneyOutcome | None:
    """Run one journey to its end and record it; None when it turned out not to apply."""
    run = Run(definition.name, ctx, sink, worker=worker, channel=channel, scheduled=scheduled)
    try:
        definition.run(run)
    except Abandoned:
        run.finish(JourneyOutcome.ABANDONED)
        return JourneyOutcome.ABANDONED
    except JourneyStopped as stopped:
        run.finish(JourneyOutcome.FAILED, stopped.step)
        return JourneyOutcome.FAILED
    except NotApplicable:
        run.finish(JourneyOutcome.SKIPPED)
        return JourneyOutcome.SKIPPED
    run.finish(JourneyOutcome.OK)
    return JourneyOutcome.OK


__all__ = [
    "JOURNEYS",
    "JourneyContext",
    "JourneyDef",
    "JourneySettings",
    "NotApplicable",
    "Run",
    "get_journey",
    "journey",
    "known_steps",
    "lease_for",
    "load_all",
    "run_journey",
]
