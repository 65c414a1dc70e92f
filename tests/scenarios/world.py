"""A real platform for journey tests: the embedded platform, a seeded population, an oracle, and a
sink that keeps the events in memory."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from anef_harness.embedded import EmbeddedTarget
from drills.admin import set_clock
from scenarios.client import ApplicantClient
from scenarios.events import Event, JourneyEvent, StepEvent
from scenarios.journeys import JourneyContext, JourneySettings, get_journey, run_journey
from scenarios.journeys.runner import AgentDesk, mailbox_reader
from scenarios.transport import HttpxTransport
from synthetic_users.agents import agent_identities
from synthetic_users.oracle import Oracle, Truth
from synthetic_users.personas import get_persona
from synthetic_users.population import Applicant, Population
from synthetic_users.seeding import seed
from synthetic_users.spec import build_spec

SETTINGS = JourneySettings(
    think_time_scale=0, abandonment=False, retries=False, document_size_scale=0.05, default_deadline=2, email_deadline=2
)
# The renewal journey's steps in order, as every channel records them.
RENEWAL_STEPS = [
    "renewal.login",
    "renewal.choose_procedure",
    "renewal.create",
    *["renewal.upload"] * 4,
    "renewal.submit",
    "renewal.reconcile",
    "renewal.receipt",
]


@dataclass
class Sink:
    events: list[Event] = field(default_factory=list)

    def write(self, event: Event) -> None:
        self.events.append(event)

    def steps(self) -> list[StepEvent]:
        return [e for e in self.events if isinstance(e, StepEvent)]

    def outcomes(self) -> dict[str, str]:
        """Step → outcome of its last attempt."""
        return {e.step: e.outcome.value for e in self.steps()}

    def journey(self) -> JourneyEvent:
        return next(e for e in self.events if isinstance(e, JourneyEvent))


@dataclass
class World:
    target: EmbeddedTarget
    population: Population
    oracle: Oracle
    desk: AgentDesk
    used: set[int] = field(default_factory=set)

    def set_faults(self, *faults: dict[str, Any]) -> None:
        response = httpx.put(
            f"{self.target.url}/_admin/faults",
            json={"faults": list(faults)},
            headers={"Authorization": f"Bearer {self.target.admin_token}"},
        )
        assert response.status_code == 200, response.text

    def pick(self, fits: Callable[[Applicant, Truth], bool]) -> int:
        for index in range(len(self.population)):
            if index not in self.used and fits(self.population.applicant(index), self.oracle.truth(index)):
                self.used.add(index)
                return index
        raise AssertionError("no applicant left that fits")

    def eligible_for(self, name: str) -> int:
        definition = get_journey(name)
        return self.pick(lambda a, t: definition.eligible(a, t, self.population))

    def run(self, name: str, index: int, *, mailbox: bool = True) -> Sink:
        """The journey for this applicant, its events kept; ``mailbox=False``: it reads no email."""
        sink = Sink()
        run_journey(get_journey(name), self.context(index, mailbox=mailbox), sink, worker="test")
        return sink

    def context(self, index: int, *, mailbox: bool = True) -> JourneyContext:
        """What a journey for this applicant runs with."""
        applicant = self.population.applicant(index)
        return JourneyContext(
            applicant=applicant,
            oracle=self.oracle,
            persona=get_persona(applicant.persona),
            client=ApplicantClient(HttpxTransport(self.target.url)),
            desk=self.desk,
            mailbox=mailbox_reader(self.target.mailbox.api_url) if mailbox else None,
            settings=SETTINGS,
            rng=random.Random(index),
        )


def embedded_world(
    tmp_path_factory: pytest.TempPathFactory,
    name: str = "test",
    *,
    size: int = 600,
    population_seed: int = 11,
    in_renewal_window: float = 0.7,
) -> Iterator[World]:
    """The body of a module-scoped ``world`` fixture (``conftest.py``'s, or a module's own population)."""
    spec = build_spec(
        name,
        {
            "size": size,
            "seed": population_seed,
            "reference_date": "2026-11-26",
            "shares": {"in_renewal_window": in_renewal_window, "card_handed_over": 0.6, "email_bounces": 0.0},
        },
    )
    population = Population(spec)
    with EmbeddedTarget(Path(tmp_path_factory.mktemp(name)) / "platform") as target:
        seed(population, target.url, target.admin_token)
        set_clock(target.url, target.admin_token, spec.reference_date)
        agents = agent_identities(sorted(spec.mix.prefectures), spec.agents_per_prefecture, spec.seed)
        world = World(target, population, Oracle(population), AgentDesk(agents))
        yield world


def all_ok(sink: Sink) -> None:
    assert sink.steps(), "no step was recorded"
    failed = {e.step: (e.outcome.value, e.message) for e in sink.steps() if e.outcome.value != "ok"}
    assert not failed, failed
    assert sink.journey().outcome.value == "ok"
