"""Background prefecture agents are synthetic users: each action is a recorded step, and what it
changes for the applicant is watched on the applicant's side, against a real platform."""

from __future__ import annotations

import random
from typing import Any

import pydantic
import pytest

from checks.defects import Findings
from scenarios.client import AgentClient, ApplicantClient
from scenarios.events import JourneyEvent
from scenarios.journeys.background import BackgroundAgent, Shift
from scenarios.journeys.runner import AgentDesk, mailbox_reader
from scenarios.spec import ScenarioSpec
from scenarios.transport import HttpxTransport, Reply, Transport
from synthetic_users.agents import AgentIdentity, AgentPace, agent_identities
from synthetic_users.partition import LeaseTable
from tests.scenarios.world import SETTINGS, Sink, World, all_ok
from tests.support import free_port, wait_until

EAGER = AgentPace(complement_share=0, refusal_share=0)
ASKING = AgentPace(complement_share=1, refusal_share=0)


def filed_renewal(world: World, journey: str = "renewal") -> int:
    """An applicant whose renewal (or another procedure) the harness filed and saw at the prefecture."""
    index = world.eligible_for(journey)
    all_ok(world.run(journey, index, mailbox=False))
    return index


def background_agent(
    world: World,
    index: int,
    pace: AgentPace,
    leases: LeaseTable | None = None,
    *,
    identity: AgentIdentity | None = None,
    transport: Transport | None = None,
) -> tuple[BackgroundAgent, Sink]:
    """An agent of the applicant's prefecture (or ``identity``), over HTTP to the world's platform
    (or ``transport``)."""
    spec = world.population.spec
    identities = agent_identities(sorted(spec.mix.prefectures), spec.agents_per_prefecture, spec.seed)
    prefecture = world.population.applicant(index).prefecture
    identity = identity or next(i for i in identities if i.prefecture == prefecture)
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

    def own() -> HttpxTransport:
        return HttpxTransport(world.target.url)

    return BackgroundAgent(identity, pace, shift, transport or own(), own, random.Random(index)), sink


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


def test_a_new_procedure_refused_after_a_handover_never_seen_is_that_defect_not_a_phantom_request(
    clean: World,
) -> None:
    index = filed_renewal(clean)
    agent, sink = background_agent(clean, index, EAGER)
    work_until(agent, sink, index, "agent.make_available")
    clean.set_faults({"id": "title_not_marked_delivered", "rate": 1.0})
    assert work_until(agent, sink, index, "agent.handover_visible")["agent.handover_visible"] == "lost"
    clean.set_faults()
    card = clean.oracle.truth(index).card_id
    assert card is not None
    assert clean.oracle.truth(index).handover_unseen == card
    assert clean.oracle.truth(index).open_dossiers == []  # the truth: nothing under review
    # The applicant's side still holds the card's dossier open: "a request is already under review".
    later = clean.run("address_change", index, mailbox=False)
    (refusal,) = [e for e in later.steps() if e.outcome != "ok"]
    assert refusal.outcome == "blocked", refusal.message
    assert "déjà en cours" in refusal.message, refusal.message
    assert refusal.evidence["handover_unseen"] == card
    found = Findings().extend([*(e for e in sink.steps() if e.applicant == index), *later.steps()])
    assert found.counts == {"title_not_marked_delivered": 2}
    assert found.incidents == {"title_not_marked_delivered": 1}


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


def steps_for(sink: Sink, index: int) -> list[str]:
    """Every step the agent recorded for this applicant, in order (repeats included)."""
    return [e.step for e in sink.steps() if e.applicant == index]


@pytest.mark.parametrize(
    ("pace", "state"),
    [
        (AgentPace(complement_share=0, refusal_share=1), "refused"),
        (AgentPace(complement_share=0, refusal_share=0, hand_over_cards=False), "accepted"),
    ],
    ids=["refusal", "no-cards"],
)
def test_decisions_follow_the_pace_and_the_agent_then_leaves_the_dossier(
    clean: World, pace: AgentPace, state: str
) -> None:
    index = filed_renewal(clean)
    agent, sink = background_agent(clean, index, pace)
    seen = work_until(agent, sink, index, "agent.decision_visible")
    assert seen == {"agent.review": "ok", "agent.decide": "ok", "agent.decision_visible": "ok"}
    for _ in range(3):
        agent.work_once()
    assert steps_for(sink, index) == ["agent.review", "agent.decide", "agent.decision_visible"]
    assert [d.state for d in clean.oracle.truth(index).dossiers.values()] == [state]


def test_complements_are_requested_once_and_the_answered_dossier_is_decided(clean: World) -> None:
    index = filed_renewal(clean)
    agent, sink = background_agent(clean, index, ASKING)
    assert work_until(agent, sink, index, "agent.complements_visible")["agent.complements_visible"] == "ok"
    agent.work_once()
    assert "agent.decide" not in mine(sink, index)  # waiting for the applicant's answer
    applicant, truth = clean.population.applicant(index), clean.oracle.truth(index)
    client = ApplicantClient(HttpxTransport(clean.target.url))
    client.login(applicant.email, truth.password)
    (request,) = client.requests()
    client.answer(request.id, "Ci-joint.")
    seen = work_until(agent, sink, index, "agent.decision_visible")
    assert seen["agent.decide"] == "ok"
    assert steps_for(sink, index).count("agent.complements") == 1  # never twice on the same dossier


def test_an_agent_sees_nothing_of_another_prefecture(clean: World) -> None:
    index = filed_renewal(clean)
    prefecture = clean.population.applicant(index).prefecture
    spec = clean.population.spec
    identities = agent_identities(sorted(spec.mix.prefectures), spec.agents_per_prefecture, spec.seed)
    here = next(i for i in identities if i.prefecture == prefecture)
    elsewhere = next(i for i in identities if i.prefecture != prefecture)
    (dossier_id,) = clean.oracle.truth(index).dossiers

    def desk(identity: AgentIdentity) -> AgentClient:
        client = AgentClient(HttpxTransport(clean.target.url))
        client.login(identity.login, identity.password)
        return client

    wait_until(lambda: desk(here).dossier(dossier_id, missing_ok=True), timeout=10)  # it reached the prefecture
    assert desk(elsewhere).dossier(dossier_id, missing_ok=True) is None  # the platform's 404
    agent, sink = background_agent(clean, index, EAGER, identity=elsewhere)
    agent.work_once()
    assert mine(sink, index) == {}
    assert [d.state for d in clean.oracle.truth(index).dossiers.values()] == ["submitted"]


class FirstQueue401:
    """Answers 401 to the first queue read, as when the platform drops a session; counts the logins."""

    def __init__(self, inner: HttpxTransport) -> None:
        self.inner = inner
        self.dropped = False
        self.logins = 0

    def send(self, method: str, path: str, **request: Any) -> Reply:
        if path == "/api/agent/login":
            self.logins += 1
        if path == "/api/agent/queue" and not self.dropped:
            self.dropped = True
            return Reply(401, b'{"error": {"code": "session_expired", "message": "expired"}}')
        return self.inner.send(method, path, **request)


def test_a_401_signs_the_agent_in_again_once(clean: World) -> None:
    index = filed_renewal(clean)
    transport = FirstQueue401(HttpxTransport(clean.target.url))
    agent, sink = background_agent(clean, index, EAGER, transport=transport)
    assert work_until(agent, sink, index, "agent.review")["agent.review"] == "ok"
    assert transport.dropped
    assert transport.logins == 2  # the first session, then one more after the 401


def test_an_agent_that_cannot_sign_in_or_reach_the_platform_acts_on_nothing_and_goes_on(clean: World) -> None:
    index = filed_renewal(clean)
    prefecture = clean.population.applicant(index).prefecture
    unseeded = AgentIdentity(login="agent.unseeded.1", name="Nadia Unseeded", prefecture=prefecture, password="x" * 16)
    refused, refused_sink = background_agent(clean, index, EAGER, identity=unseeded)
    nowhere, nowhere_sink = background_agent(
        clean, index, EAGER, transport=HttpxTransport(f"http://127.0.0.1:{free_port()}", timeout=2)
    )
    for _ in range(2):
        assert refused.work_once() == 0
        assert nowhere.work_once() == 0
    assert refused.client.token is None
    assert refused_sink.events == nowhere_sink.events == []


def test_a_campaign_cannot_draw_the_background_agents_journey() -> None:
    with pytest.raises(pydantic.ValidationError, match="unknown journey 'agent'"):
        ScenarioSpec.model_validate(
            {"name": "x", "duration": 10, "population": {"size": 10, "seed": 1}, "journeys": {"agent": 1}}
        )
