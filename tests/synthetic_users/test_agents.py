"""Synthetic prefecture agents: deterministic identities the platform accepts, and a worker that
takes real dossiers through their whole lifecycle over HTTP.

The module's platform is shared by its tests (and xdist may run them in any order), so each test
works in a prefecture of its own and gets agents with unique logins.
"""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest

from reference_platform.domain.seeding import AgentSeed
from synthetic_users.agents import (
    COMPLEMENT_MESSAGES,
    AgentIdentity,
    AgentLoginError,
    AgentPace,
    AgentWorker,
    agent_identities,
    to_seed_record,
)
from tests.support import Api, PlatformProcess, applicant_seed, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 10.0
EAGER = AgentPace(complement_share=0, refusal_share=0)

MakeAgent = Callable[..., AgentWorker]


@pytest.fixture
def make_agent(api: Api, platform: PlatformProcess) -> Iterator[MakeAgent]:
    """A seeded agent of the given prefecture, with a login no other test uses."""
    workers: list[AgentWorker] = []

    def make(prefecture: str, pace: AgentPace = EAGER, *, seeded: bool = True, **options: Any) -> AgentWorker:
        prefix = f"t{uuid.uuid4().hex[:8]}"
        identity = agent_identities([prefecture], 1, seed=random.getrandbits(32), prefix=prefix)[0]
        if seeded:
            assert api.seed(to_seed_record(identity))["agents"] == 1
        worker = AgentWorker(platform.url, identity, pace, random.Random(7), **options)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.close()


def filed_renewal(api: Api, prefecture: str, **overrides: Any) -> tuple[dict[str, str], dict[str, Any], str]:
    """An applicant of the prefecture who filed a renewal: (auth, their card, dossier id)."""
    seed = applicant_seed(prefecture=prefecture, **overrides)
    api.seed(seed)
    auth = api.login(seed)
    card = api.http.get("/api/me", headers=auth).json()["card"]
    return auth, card, api.submitted_renewal(auth)["id"]


def work_until(agent: AgentWorker, condition: Callable[[], Any]) -> Any:
    """Passes of the agent until the condition holds (the seam needs a moment each way)."""

    def one_pass_then_check() -> Any:
        agent.run_once()
        return condition()

    return wait_until(one_pass_then_check, DEADLINE, interval=0.05)


def front_state(api: Api, auth: dict[str, str], dossier_id: str) -> str:
    return str(api.http.get(f"/api/me/dossiers/{dossier_id}", headers=auth).json()["state"])


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


def test_seed_records_are_accepted_and_agents_log_in(api: Api, platform: PlatformProcess) -> None:
    identities = agent_identities(["14", "2A"], 2, seed=random.getrandbits(32), prefix=f"t{uuid.uuid4().hex[:8]}")
    assert api.seed(*(to_seed_record(i) for i in identities))["agents"] == 4
    assert api.seed(*(to_seed_record(i) for i in identities))["agents"] == 0  # idempotent
    for identity in identities:
        with AgentWorker(platform.url, identity) as worker:
            worker.login()
            assert worker.stats().logins == 1


# --- the worker against the real platform ----------------------------------------------------


def test_worker_takes_a_renewal_to_a_new_card_handed_over(api: Api, make_agent: MakeAgent) -> None:
    agent = make_agent("13")
    auth, old_card, dossier_id = filed_renewal(api, "13")

    def new_card_handed_over() -> dict[str, Any] | None:
        card: dict[str, Any] = api.http.get("/api/me", headers=auth).json()["card"]
        return card if card["id"] != old_card["id"] and card["state"] == "handed_over" else None

    new_card = work_until(agent, new_card_handed_over)
    assert new_card["valid_from"] > old_card["valid_until"]
    wait_until(lambda: front_state(api, auth, dossier_id) == "handed_over", DEADLINE)
    stats = agent.stats()
    assert stats.actions == dict.fromkeys(["review", "accept", "produce_card", "make_available", "hand_over"], 1), stats
    assert stats.errors == {}
    assert agent.run_once() == 0  # nothing left in the queue


def test_complement_request_reaches_the_applicant_once(api: Api, make_agent: MakeAgent) -> None:
    agent = make_agent("69", AgentPace(complement_share=1, refusal_share=0))
    auth, _, dossier_id = filed_renewal(api, "69")

    def request_seen() -> list[dict[str, Any]]:
        return [r for r in api.http.get("/api/me/requests", headers=auth).json() if r["dossier_id"] == dossier_id]

    request = work_until(agent, request_seen)[0]
    assert request["message"] in COMPLEMENT_MESSAGES
    assert agent.run_once() == 0  # waiting for the answer
    answered = api.http.post(f"/api/me/requests/{request['id']}/answer", headers=auth, json={"answer": "Ci-joint."})
    assert answered.status_code == 200, answered.text
    work_until(agent, lambda: agent.stats().actions.get("accept"))
    assert agent.stats().actions["request_complements"] == 1  # never twice on the same dossier
    assert agent.stats().errors == {}


@pytest.mark.parametrize(
    ("prefecture", "pace", "final_state", "actions"),
    [
        ("67", AgentPace(complement_share=0, refusal_share=1), "refused", {"review": 1, "refuse": 1}),
        (
            "44",
            AgentPace(complement_share=0, refusal_share=0, hand_over_cards=False),
            "accepted",
            {"review": 1, "accept": 1},
        ),
    ],
    ids=["refusal", "no-cards"],
)
def test_decisions_follow_the_pace(
    api: Api, make_agent: MakeAgent, prefecture: str, pace: AgentPace, final_state: str, actions: dict[str, int]
) -> None:
    agent = make_agent(prefecture, pace)
    auth, _, dossier_id = filed_renewal(api, prefecture)
    work_until(agent, lambda: front_state(api, auth, dossier_id) == final_state)
    for _ in range(3):
        agent.run_once()
    assert agent.stats().actions == actions
    assert front_state(api, auth, dossier_id) == final_state


def test_run_works_the_queue_until_stopped(api: Api, make_agent: MakeAgent) -> None:
    agent = make_agent("33", AgentPace(actions_per_minute=1200, complement_share=0, refusal_share=0))
    auth, old_card, _ = filed_renewal(api, "33")
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    try:

        def new_card_handed_over() -> bool:
            card = api.http.get("/api/me", headers=auth).json()["card"]
            return bool(card["id"] != old_card["id"] and card["state"] == "handed_over")

        wait_until(new_card_handed_over, DEADLINE, interval=0.05)
    finally:
        stop.set()
        thread.join(timeout=2)
    assert not thread.is_alive()
    assert agent.stats().action_count == 5


def test_run_stops_promptly_even_between_slow_passes(make_agent: MakeAgent) -> None:
    agent = make_agent("35", AgentPace(actions_per_minute=0.1))  # one pass every ten minutes
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    wait_until(lambda: agent.stats().passes >= 1, DEADLINE)
    started = time.monotonic()
    stop.set()
    thread.join(timeout=2)
    assert not thread.is_alive()
    assert time.monotonic() - started < 1.0


def test_agent_sees_nothing_of_another_prefecture(api: Api, make_agent: MakeAgent) -> None:
    paris, corsica = make_agent("75"), make_agent("2A")
    auth, card, dossier_id = filed_renewal(api, "75")
    paris_auth = api.agent_login(to_seed_record(paris.identity))
    wait_until(
        lambda: api.http.get(f"/api/agent/dossiers/{dossier_id}", headers=paris_auth).status_code == 200, DEADLINE
    )

    assert corsica.run_once() == 0
    corsica_auth = api.agent_login(to_seed_record(corsica.identity))
    assert api.http.get(f"/api/agent/dossiers/{dossier_id}", headers=corsica_auth).status_code == 404
    assert api.http.get("/api/agent/queue", headers=corsica_auth).json() == []
    assert all(c["id"] != card["id"] for c in api.http.get("/api/agent/cards", headers=corsica_auth).json())
    assert corsica.hand_over_available() == []
    assert corsica.stats().actions == {}
    assert front_state(api, auth, dossier_id) == "submitted"


def test_hand_over_a_seeded_available_card(api: Api, make_agent: MakeAgent) -> None:
    agent = make_agent("59")
    seed = applicant_seed(prefecture="59", card_state="available")
    api.seed(seed)
    auth = api.login(seed)
    me = api.http.get("/api/me", headers=auth).json()
    assert agent.hand_over_available(applicant_id=me["id"]) == [me["card"]["id"]]
    wait_until(lambda: api.http.get("/api/me", headers=auth).json()["card"]["state"] == "handed_over", DEADLINE)
    assert agent.hand_over_available(applicant_id=me["id"]) == []
    assert agent.stats().actions == {"hand_over": 1}


# --- failures are counted, never fatal -------------------------------------------------------


class FirstQueue401(httpx.BaseTransport):
    """Answers 401 to the first queue read, as when the platform drops a session."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.dropped = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/agent/queue" and not self.dropped:
            self.dropped = True
            return httpx.Response(401, json={"error": {"code": "session_expired", "message": "Session expirée."}})
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_a_401_logs_in_again_once(make_agent: MakeAgent) -> None:
    transport = FirstQueue401()
    agent = make_agent("31", transport=transport)
    agent.login()
    assert agent.run_once() == 0
    assert transport.dropped
    stats = agent.stats()
    assert stats.logins == 2
    assert stats.errors == {}


def test_errors_are_counted_and_never_crash_the_loop(make_agent: MakeAgent) -> None:
    unseeded = make_agent("21", seeded=False)
    with pytest.raises(AgentLoginError, match="login refused"):
        unseeded.login()
    assert unseeded.run_once() == 0
    assert unseeded.stats().errors == {"login": 2}

    identity = agent_identities(["21"], 1, seed=1)[0]
    with AgentWorker(f"http://127.0.0.1:{free_port()}", identity, AgentPace(actions_per_minute=6000)) as nowhere:
        assert nowhere.run_once() == 0
        stop = threading.Event()
        thread = threading.Thread(target=nowhere.run, args=(stop,), daemon=True)
        thread.start()
        wait_until(lambda: nowhere.stats().errors.get("transport", 0) >= 3, DEADLINE)
        assert thread.is_alive()
        stop.set()
        thread.join(timeout=2)
        assert not thread.is_alive()
