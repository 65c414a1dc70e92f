"""Background prefecture agents are synthetic users: each action is a recorded step, and what it
changes for the applicant is watched on the applicant's side, against a real platform."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pydantic
import pytest

from checks.defects import Findings
from scenarios.client import ApplicantClient
from scenarios.events import JourneyEvent
from scenarios.journeys import JourneyContext, get_journey, run_journey
from scenarios.journeys.background import BackgroundAgent, Shift
from scenarios.journeys.runner import AgentDesk, mailbox_reader
from scenarios.spec import ScenarioSpec
from scenarios.transport import HttpxTransport
from synthetic_users.agents import AgentPace, agent_identities
from synthetic_users.partition import LeaseTable
from synthetic_users.personas import get_persona
from tests.scenarios.world import SETTINGS, Sink, World, all_ok, embedded_world
from tests.support import wait_until

EAGER = AgentPace(complement_share=0, refusal_share=0)
ASKING = AgentPace(complement_share=1, refusal_share=0)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from embedded_world(tmp_path_factory)


@pytest.fixture
def clean(world: World) -> Iterator[World]:
    world.set_faults()
    yield world
    world.set_faults()


def filed_renewal(world: World, journey: str = "renewal") -> int:
    """An applicant whose renewal (or another procedure) the harness filed and saw at the prefecture."""
    index = world.eligible_for(journey)
    applicant = world.population.applicant(index)
    ctx = JourneyContext(
        applicant=applicant,
        oracle=world.oracle,
        persona=get_persona(applicant.persona),
        client=ApplicantClient(HttpxTransport(world.target.url)),
        desk=world.desk,
        mailbox=None,
        settings=SETTINGS,
        rng=random.Random(index),
    )
    sink = Sink()
    run_journey(get_journey(journey), ctx, sink, worker="test")
    all_ok(sink)
    return index


def background_agent(
    world: World, index: int, pace: AgentPace, leases: LeaseTable | None = None
) -> tuple[BackgroundAgent, Sink]:
    spec = world.population.spec
    identities = agent_identities(sorted(spec.mix.prefectures), spec.agents_per_prefecture, spec.seed)
    prefecture = world.population.applicant(index).prefecture
    identity = next(i for i in identities if i.prefecture == prefecture)
    sink = Sink()
    shift = Shift(
        population=world.population,
        oracle=world.oracle,
        leases=leases or LeaseTable(len(world.population)),
        sink=sink,
        worker="test",
        settings=SETTINGS,
        desk=AgentDesk(identities),
        mailbox=mailbox_reader(world.target.mailbox.api_url),
    )

    def transport() -> HttpxTransport:
        return HttpxTransport(world.target.url)

    return BackgroundAgent(identity, pace, shift, transport(), transport, random.Random(index)), sink


def mine(sink: Sink, index: int) -> dict[str, str]:
    """Step → outcome of the agent's steps for this applicant (other tests' dossiers share the queue)."""
    return {e.step: e.outcome.value for e in sink.steps() if e.applicant == index}


def work_until(agent: BackgroundAgent, sink: Sink, index: int, step: str) -> dict[str, str]:
    def done() -> dict[str, str] | None:
        agent.work_once()
        seen = mine(sink, index)
        return seen if step in seen else None

    return wait_until(done, timeout=60, interval=0.1)


def test_every_action_of_a_background_agent_is_a_step_watched_on_the_applicants_side(clean: World) -> None:
    index = filed_renewal(clean)
    agent, sink = background_agent(clean, index, EAGER)
    seen = work_until(agent, sink, index, "agent.handover_visible")
    assert seen == {
        "agent.review": "ok",
        "agent.decide": "ok",
        "agent.decision_visible": "ok",
        "agent.produce_card": "ok",
        "agent.make_available": "ok",
        "agent.handover": "ok",
        "agent.handover_visible": "ok",
    }
    assert {e.channel for e in sink.steps()} == {"agent"}
    journeys = [e for e in sink.events if isinstance(e, JourneyEvent)]
    assert journeys
    assert {j.journey for j in journeys} == {"agent"}
    truth = clean.oracle.truth(index)
    assert truth.card_state == "handed_over"  # the oracle learns what the agent did
    assert [d.state for d in truth.dossiers.values()] == ["handed_over"]


def test_an_accepted_address_change_shows_closed_on_the_dashboard(clean: World) -> None:
    index = filed_renewal(clean, "address_change")
    agent, sink = background_agent(clean, index, EAGER)
    seen = work_until(agent, sink, index, "agent.decision_visible")
    assert seen == {"agent.review": "ok", "agent.decide": "ok", "agent.decision_visible": "ok"}
    assert [d.state for d in clean.oracle.truth(index).dossiers.values()] == ["closed"]


def test_a_card_never_marked_handed_over_after_an_agents_handover_is_detected(clean: World) -> None:
    index = filed_renewal(clean)
    agent, sink = background_agent(clean, index, EAGER)
    work_until(agent, sink, index, "agent.make_available")
    clean.set_faults({"id": "title_not_marked_delivered", "rate": 1.0})
    seen = work_until(agent, sink, index, "agent.handover_visible")
    assert seen["agent.handover"] == "ok"
    assert seen["agent.handover_visible"] == "lost"
    lost = next(e for e in sink.steps() if e.step == "agent.handover_visible" and e.applicant == index)
    assert lost.evidence["card"] == clean.oracle.truth(index).card_id
    found = Findings().extend(e for e in sink.steps() if e.applicant == index)
    assert found.counts == {"title_not_marked_delivered": 1}


def test_a_hidden_request_for_complements_from_a_background_agent_is_detected(clean: World) -> None:
    index = filed_renewal(clean)
    agent, sink = background_agent(clean, index, ASKING)
    work_until(agent, sink, index, "agent.review")
    clean.set_faults({"id": "agent_request_hidden", "rate": 1.0})
    seen = work_until(agent, sink, index, "agent.complements_visible")
    assert seen["agent.complements"] == "ok"
    assert seen["agent.complements_visible"] == "lost"
    found = Findings().extend(e for e in sink.steps() if e.applicant == index)
    assert found.counts == {"agent_request_hidden": 1}
    assert clean.oracle.truth(index).pending_requests  # the request exists, whatever the dashboard shows


def test_an_agent_waits_while_a_journey_acts_for_the_applicant(clean: World) -> None:
    index = filed_renewal(clean)
    leases = LeaseTable(len(clean.population))
    held = leases.take(index)
    assert held is not None
    agent, sink = background_agent(clean, index, EAGER, leases)
    agent.work_once()
    assert mine(sink, index) == {}
    held.release()
    assert work_until(agent, sink, index, "agent.review")["agent.review"] == "ok"


def test_a_campaign_cannot_draw_the_background_agents_journey() -> None:
    with pytest.raises(pydantic.ValidationError, match="unknown journey 'agent'"):
        ScenarioSpec.model_validate(
            {"name": "x", "duration": 10, "population": {"size": 10, "seed": 1}, "journeys": {"agent": 1}}
        )
