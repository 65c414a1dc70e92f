"""Synthetic prefecture agents: deterministic identities the platform accepts, the pace, and
``plan``, which decides what a background agent (``scenarios.journeys.background``) does next.

The module's platform is shared by its tests (and xdist may run them in any order), so the agents
seeded here get logins no other test uses.
"""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pydantic
import pytest

from reference_platform.domain.seeding import AgentSeed
from synthetic_users.agents import (
    COMPLEMENT_MESSAGES,
    AgentAction,
    AgentIdentity,
    AgentPace,
    Planned,
    actionable,
    agent_identities,
    plan,
    to_seed_record,
)
from tests.support import Api

ROOT = Path(__file__).resolve().parents[2]
EAGER = AgentPace(complement_share=0, refusal_share=0)
STATES = (
    "submitted",
    "under_review",
    "complement_requested",
    "accepted",
    "refused",
    "card_produced",
    "card_available",
    "handed_over",
    "closed",
)
PROCEDURES = ("renewal", "duplicate", "address_change")


# --- identities ------------------------------------------------------------------------------


def test_identities_are_deterministic_across_calls_and_processes() -> None:
    first = agent_identities(["75", "2A", "971"], 3, seed=2024)
    assert first == agent_identities(["75", "2A", "971"], 3, seed=2024)
    assert [i.login for i in first[:4]] == ["agent.75.1", "agent.75.2", "agent.75.3", "agent.2a.1"]

    code = (
        "import json; from dataclasses import asdict; from synthetic_users.agents import agent_identities; "
        "print(json.dumps([asdict(i) for i in agent_identities(['75', '2A', '971'], 3, seed=2024)]))"
    )
    # Another hash seed on purpose: identities must not depend on Python's salted hash().
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert [AgentIdentity(**i) for i in json.loads(out.stdout)] == first

    other = agent_identities(["75", "2A", "971"], 3, seed=2025)
    assert [i.login for i in other] == [i.login for i in first]
    assert all(a.password != b.password for a, b in zip(first, other, strict=True))
    assert [i.name for i in other] != [i.name for i in first]


def test_identities_fit_the_platform_and_the_password_policy() -> None:
    identities = agent_identities(["13", "13", "2B"], 2, seed=1)
    assert [i.login for i in identities] == ["agent.13.1", "agent.13.2", "agent.2b.1", "agent.2b.2"]
    for identity in identities:
        AgentSeed.model_validate(to_seed_record(identity))
        password = identity.password
        assert len(password) >= 12
        assert set(password) & set(string.ascii_letters)
        assert set(password) & set(string.digits)
        assert len(identity.name.split()) >= 2
    assert agent_identities(["75"], 0, seed=1) == []
    with pytest.raises(ValueError, match="département"):
        agent_identities(["Paris"], 1, seed=1)
    with pytest.raises(ValueError, match="per_prefecture"):
        agent_identities(["75"], -1, seed=1)


def test_pace_is_validated() -> None:
    assert AgentPace().hand_over_cards
    with pytest.raises(pydantic.ValidationError):
        AgentPace(actions_per_minute=0)
    with pytest.raises(pydantic.ValidationError):
        AgentPace(complement_share=1.5)
    with pytest.raises(pydantic.ValidationError):
        AgentPace.model_validate({"refusal_rate": 0.1})


def test_seed_records_are_accepted_and_agents_log_in(api: Api) -> None:
    identities = agent_identities(["14", "2A"], 2, seed=random.getrandbits(32), prefix=f"t{uuid.uuid4().hex[:8]}")
    assert api.seed(*(to_seed_record(i) for i in identities))["agents"] == 4
    assert api.seed(*(to_seed_record(i) for i in identities))["agents"] == 0  # idempotent
    for identity in identities:
        assert api.agent_login(to_seed_record(identity))["Authorization"].startswith("Bearer ")


# --- what an agent does next -----------------------------------------------------------------


def next_action(
    state: str, procedure: str = "renewal", pace: AgentPace = EAGER, *, has_requests: bool = False
) -> Planned | None:
    return plan(state, procedure, has_requests=has_requests, pace=pace, rng=random.Random(7))


def test_a_renewal_goes_from_review_to_a_card_handed_over() -> None:
    steps = {state: next_action(state) for state in STATES}
    assert steps == {
        "submitted": Planned(AgentAction.REVIEW),
        "under_review": Planned(AgentAction.ACCEPT, decision="accepted"),
        "complement_requested": None,  # the applicant's answer is awaited
        "accepted": Planned(AgentAction.PRODUCE_CARD),
        "refused": None,
        "card_produced": Planned(AgentAction.MAKE_AVAILABLE),
        "card_available": Planned(AgentAction.HAND_OVER),
        "handed_over": None,
        "closed": None,
    }


def test_complements_are_requested_once_per_dossier() -> None:
    asking = AgentPace(complement_share=1, refusal_share=0)
    request = next_action("under_review", pace=asking)
    assert request is not None
    assert request.action is AgentAction.REQUEST_COMPLEMENTS
    assert request.message in COMPLEMENT_MESSAGES
    # Answered, the dossier comes back under review: now a decision, never a second request.
    assert next_action("under_review", pace=asking, has_requests=True) == Planned(
        AgentAction.ACCEPT, decision="accepted"
    )


@pytest.mark.parametrize(
    ("pace", "procedure", "after_accepted"),
    [
        (AgentPace(complement_share=0, refusal_share=0, hand_over_cards=False), "renewal", None),
        (EAGER, "address_change", None),  # an address change gives no new card
        (EAGER, "duplicate", Planned(AgentAction.PRODUCE_CARD)),
    ],
    ids=["no-cards", "address-change", "duplicate"],
)
def test_cards_are_produced_for_renewals_and_duplicates_when_the_pace_hands_them_over(
    pace: AgentPace, procedure: str, after_accepted: Planned | None
) -> None:
    assert next_action("accepted", procedure, pace) == after_accepted


def test_decisions_and_requests_follow_the_pace_shares() -> None:
    refusing = AgentPace(complement_share=0, refusal_share=1)
    assert next_action("under_review", pace=refusing) == Planned(AgentAction.REFUSE, decision="refused")
    pace = AgentPace(complement_share=0.2, refusal_share=0.1)
    rng = random.Random(2024)
    drawn = Counter(
        planned.action
        for planned in (plan("under_review", "renewal", has_requests=False, pace=pace, rng=rng) for _ in range(4000))
        if planned is not None
    )
    assert drawn.total() == 4000
    assert drawn[AgentAction.REQUEST_COMPLEMENTS] / 4000 == pytest.approx(0.2, abs=0.025)
    # Refusals are drawn among the dossiers not sent back for complements.
    assert drawn[AgentAction.REFUSE] / 4000 == pytest.approx(0.8 * 0.1, abs=0.02)


@pytest.mark.parametrize("procedure", PROCEDURES)
@pytest.mark.parametrize(
    "pace",
    [EAGER, AgentPace(hand_over_cards=False), AgentPace(complement_share=1)],
    ids=["eager", "no-cards", "asking"],
)
def test_actionable_says_whether_plan_has_something_to_do(procedure: str, pace: AgentPace) -> None:
    for state in STATES:
        planned = plan(state, procedure, has_requests=False, pace=pace, rng=random.Random(1))
        assert actionable(state, procedure, pace) == (planned is not None), (state, planned)
