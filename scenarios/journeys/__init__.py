"""Journeys: registered sequences of steps with the stable names of DESIGN.md.

A journey is a function of a ``Run``, registered with ``@journey``; its name is the key used in
campaign files (``journeys: {renewal: 3, login: 5}``) and the prefix of its step names. Each
journey says which applicants it fits (``eligible``), judged on the oracle's truth, so that a
refusal the platform gives to an eligible applicant is a ``blocked`` step, not noise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from core.registry import Registry
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
# A watch step waits for an effect where it must show: across the seam (the prefecture or the
# applicant's dashboard) or in the applicant's mailbox. Its duration is a time to consistency.
Watch = Literal["seam", "mail"]


@dataclass(frozen=True)
class JourneyDef:
    name: str
    run: Callable[[Run], None]
    eligible: Eligibility
    steps: tuple[str, ...] = ()
    needs_mailbox: bool = False
    needs_agents: bool = False
    doc: str = ""
    watches: Mapping[str, Watch] = field(default_factory=dict)  # step (short name) → what it watches
    # Run by the campaign's background agents, never drawn by a campaign's journey weights.
    background: bool = False

    @property
    def step_names(self) -> tuple[str, ...]:
        return tuple(f"{self.name}.{step}" for step in self.steps)

    @property
    def watch_names(self) -> dict[str, Watch]:
        return {f"{self.name}.{step}": kind for step, kind in self.watches.items()}


JOURNEYS: Registry[JourneyDef] = Registry("journey")


def journey(
    *,
    eligible: Eligibility,
    steps: tuple[str, ...],
    watches: Mapping[str, Watch] | None = None,
    needs_mailbox: bool = False,
    needs_agents: bool = False,
    background: bool = False,
) -> Callable[[Callable[[Run], None]], Callable[[Run], None]]:
    """Register a journey under its function's name, with the steps it may record (in order) and
    which of them are watches: SLO files and reports name them before any campaign has run."""
    undeclared = sorted(set(watches or {}) - set(steps))
    if undeclared:
        raise ValueError(f"watches {undeclared} are not among the journey's steps {steps}")

    def register(function: Callable[[Run], None]) -> Callable[[Run], None]:
        doc = (function.__doc__ or "").strip().splitlines()
        JOURNEYS.add(
            function.__name__,
            JourneyDef(
                function.__name__,
                function,
                eligible,
                steps,
                needs_mailbox,
                needs_agents,
                doc[0] if doc else "",
                dict(watches or {}),
                background,
            ),
        )
        return function

    return register


def get_journey(name: str) -> JourneyDef:
    load_all()
    return JOURNEYS.get_or_fail(name)


def watch_steps() -> dict[str, Watch]:
    """Every watch step a shipped journey may record → what it watches."""
    return {step: kind for definition in load_all().values() for step, kind in definition.watch_names.items()}


def watch_kind(step: str) -> Watch | None:
    """What a step watches (``seam`` or ``mail``), or None for a step that acts."""
    return _watches().get(step)


_WATCHES: dict[str, Watch] = {}


def _watches() -> dict[str, Watch]:
    if not _WATCHES:
        _WATCHES.update(watch_steps())
    return _WATCHES


SHIPPED = ("applicant", "background", "prefecture", "security")  # the modules of the shipped journeys, in order


def shipped_order(definition: JourneyDef) -> tuple[int, int]:
    """Where a journey stands: its module among ``SHIPPED`` (others after), then its place in the file."""
    module = definition.run.__module__.rsplit(".", 1)[-1]
    place = SHIPPED.index(module) if module in SHIPPED else len(SHIPPED)
    return place, definition.run.__code__.co_firstlineno


def load_all() -> Registry[JourneyDef]:
    """Import the modules that register the shipped journeys; the registry then lists them in
    ``shipped_order``, whichever module a process imported first (the SLO file, the campaign's draw
    and the reports follow that order)."""
    from scenarios.journeys import applicant, background, prefecture, security  # noqa: F401 - registration on import

    if _ordered[0] != len(JOURNEYS):  # once per registration, not on every call
        JOURNEYS.order_by(shipped_order)
        _ordered[0] = len(JOURNEYS)
    return JOURNEYS


_ordered = [0]  # how many journeys the registry held when last put in order


def lease_for(
    definition: JourneyDef, leases: LeaseTable, population: Population, oracle: Oracle, *, tries: int = 64
) -> Lease | None:
    """A lease on a free applicant of the partition that the journey fits (by the oracle's
    truth), or None after ``tries`` candidates: the caller then picks another journey."""
    found = lease_applicant(definition, leases, population, oracle, tries=tries)
    return None if found is None else found[0]


def lease_applicant(
    definition: JourneyDef, leases: LeaseTable, population: Population, oracle: Oracle, *, tries: int = 64
) -> tuple[Lease, Applicant] | None:
    """``lease_for``, with the applicant it generated to judge the fit: a journey generates its
    applicant once (the load generator's largest cost per journey after HTTP itself)."""
    for _ in range(min(tries, len(leases))):
        lease = leases.take_next()
        if lease is None:
            return None
        applicant = population.applicant(lease.index)
        if definition.eligible(applicant, oracle.truth_of(applicant), population):
            return lease, applicant
        lease.release()
    return None


def known_steps() -> dict[str, JourneyDef]:
    """Every step name a shipped journey may record → its journey."""
    return {step: definition for definition in load_all().values() for step in definition.step_names}


def drawable() -> list[str]:
    """The journeys a campaign may weigh (background ones are run by the agents)."""
    return [name for name, definition in load_all().items() if not definition.background]


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
    return conclude(run, lambda: definition.run(run))


def conclude(run: Run, body: Callable[[], None]) -> JourneyOutcome:
    """Run a journey's body and record its end, whichever way it ended."""
    try:
        body()
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
    "conclude",
    "drawable",
    "get_journey",
    "journey",
    "known_steps",
    "lease_applicant",
    "lease_for",
    "load_all",
    "run_journey",
    "watch_kind",
    "watch_steps",
]
