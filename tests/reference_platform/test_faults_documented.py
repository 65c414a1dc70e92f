"""The seven documented ANEF defects (DESIGN.md, "The fault catalogue").

For each: at rate 1 the applicant or the agent lives the defect exactly as described and the
ledger names the fault, the applicant, the object and the route; at rate 0 nothing happens; at
rate 0.1 over 500 eligible events the ledger count lies inside the two-sided binomial bounds at
p < 0.001. Symptoms are observed over real HTTP against the platform process; the counts use
the in-process app, where thousands of requests take seconds.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.reference_platform.faults_support import app_settings, ledger_of, login  # noqa: F401 - fixture
from tests.support import (
    PASSWORD,
    Api,
    SmtpSink,
    agent_seed,
    applicant_seed,
    binomial_bounds,
    gather_bounded,
    in_app,
    pdf_bytes,
    wait_synced,
    wait_until,
)

RATES = [pytest.param(1.0, id="rate-1"), pytest.param(0.0, id="rate-0")]
EVENTS = 500
RATE = 0.1
NEW_ADDRESS = {"address": "3 avenue Jean Jaurès", "postcode": "75019", "city": "Paris"}
SMALL_PDF = pdf_bytes(400)  # one blob for every upload of a count: no fsync per upload


# --- helpers ---------------------------------------------------------------------------------


def offers(api: Api, auth: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = api.http.get("/api/me/procedures", headers=auth)
    assert response.status_code == 200, response.text
    return {offer["id"]: offer for offer in response.json()}


def submitted_address_change(api: Api, auth: dict[str, str]) -> str:
    """File an address change (one document) and return the dossier id."""
    created = api.http.post(
        "/api/me/dossiers", headers=auth, json={"procedure": "address_change", "details": NEW_ADDRESS}
    )
    assert created.status_code == 201, created.text
    dossier_id = created.json()["id"]
    uploaded = api.upload(auth, dossier_id, "proof_of_address", SMALL_PDF)
    assert uploaded.status_code == 201, uploaded.text
    submitted = api.http.post(f"/api/me/dossiers/{dossier_id}/submit", headers=auth)
    assert submitted.status_code == 200, submitted.text
    return str(dossier_id)


def at_prefecture(api: Api, agent_auth: dict[str, str], dossier_id: str) -> dict[str, Any]:
    """Wait for the dossier to reach the prefecture; return the agent's view of it."""

    def seen() -> dict[str, Any] | None:
        response = api.http.get(f"/api/agent/dossiers/{dossier_id}", headers=agent_auth)
        return response.json() if response.status_code == 200 else None

    found: dict[str, Any] = wait_until(seen)
    return found


def assert_binomial(count: int, n: int = EVENTS, p: float = RATE) -> None:
    low, high = binomial_bounds(n, p)
    assert low <= count <= high, f"{count} firings in {n} events at rate {p}: expected {low}..{high}"


# The counts send their requests with ``in_app`` (an async client on the app's own loop).


async def a_login(http: httpx.AsyncClient, seed: dict[str, Any]) -> dict[str, str]:
    response = await http.post("/api/auth/login", json={"identifier": seed["email"], "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def a_upload(http: httpx.AsyncClient, auth: dict[str, str], dossier_id: str, kind: str) -> httpx.Response:
    return await http.post(
        f"/api/me/dossiers/{dossier_id}/documents",
        headers=auth,
        data={"kind": kind},
        files={"file": ("piece.pdf", SMALL_PDF, "application/octet-stream")},
    )


async def a_submitted_address_change(http: httpx.AsyncClient, auth: dict[str, str]) -> str:
    created = await http.post(
        "/api/me/dossiers", headers=auth, json={"procedure": "address_change", "details": NEW_ADDRESS}
    )
    assert created.status_code == 201, created.text
    dossier_id = str(created.json()["id"])
    assert (await a_upload(http, auth, dossier_id, "proof_of_address")).status_code == 201
    submitted = await http.post(f"/api/me/dossiers/{dossier_id}/submit", headers=auth)
    assert submitted.status_code == 200, submitted.text
    return dossier_id


async def a_post_all(http: httpx.AsyncClient, paths: list[str], auth: dict[str, str], **kwargs: Any) -> list[int]:
    """POST to every path (a few in flight at once); the status codes, in order."""
    responses = await gather_bounded(http.post(path, headers=auth, **kwargs) for path in paths)
    return [response.status_code for response in responses]


# --- title_not_marked_delivered --------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_title_not_marked_delivered(api: Api, rate: float) -> None:
    seed, agent = applicant_seed(card_state="available"), agent_seed()
    api.seed(seed, agent)
    auth, applicant = login(api, seed)
    agent_auth = api.agent_login(agent)
    card_id = api.http.get("/api/me", headers=auth).json()["card"]["id"]
    api.set_faults({"id": "title_not_marked_delivered", "rate": rate})

    handed = api.http.post(f"/api/agent/cards/{card_id}/handover", headers=agent_auth)
    assert handed.status_code == 200, handed.text
    assert handed.json()["state"] == "handed_over"
    agent_cards = api.http.get(
        "/api/agent/cards", headers=agent_auth, params={"state": "handed_over", "limit": 500}
    ).json()
    assert card_id in {card["id"] for card in agent_cards}  # the prefecture's record: handed over
    wait_synced(api)

    card = api.http.get("/api/me", headers=auth).json()["card"]
    renewal = offers(api, auth)["renewal"]
    if rate:
        assert card["state"] == "available"
        assert not renewal["available"]
        assert "précédent n'a pas été remis" in renewal["reason"]
        refused = api.http.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"})
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "card_not_handed_over"
        assert ledger_of(api, "title_not_marked_delivered", applicant) == [("sync:card.handed_over", card_id)]
    else:
        assert card["state"] == "handed_over"
        assert renewal["available"], renewal
        assert ledger_of(api, "title_not_marked_delivered", applicant) == []


@pytest.mark.slow
def test_title_not_marked_delivered_rate(app_api: Api) -> None:
    api = app_api
    seeds = [applicant_seed(card_state="available") for _ in range(EVENTS)]
    agent = agent_seed()
    api.seed(*seeds, agent)
    agent_auth = api.agent_login(agent)
    cards = api.http.get("/api/agent/cards", headers=agent_auth, params={"state": "available", "limit": EVENTS}).json()
    assert len(cards) == EVENTS
    api.set_faults({"id": "title_not_marked_delivered", "rate": RATE})

    async def hand_over_all(http: httpx.AsyncClient) -> list[int]:
        return await a_post_all(http, [f"/api/agent/cards/{card['id']}/handover" for card in cards], agent_auth)

    assert set(in_app(api, hand_over_all)) == {200}
    wait_synced(api, timeout=30)
    entries = api.ledger("title_not_marked_delivered")
    assert len({e["object"] for e in entries}) == len(entries)  # one firing per card at most
    assert_binomial(len(entries))


# --- phantom_pending_request -----------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_phantom_pending_request(api: Api, rate: float) -> None:
    seed = applicant_seed()
    api.seed(seed)
    auth, applicant = login(api, seed)
    assert api.http.get("/api/me/dossiers", headers=auth).json() == []
    assert offers(api, auth)["renewal"]["available"]
    api.set_faults({"id": "phantom_pending_request", "rate": rate})

    created = api.http.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"})
    if rate:
        assert created.status_code == 409, created.text
        assert created.json()["error"] == {
            "code": "request_in_progress",
            "message": "Une demande est déjà en cours d'instruction.",
        }
        assert api.http.get("/api/me/dossiers", headers=auth).json() == []  # though none is
        assert ledger_of(api, "phantom_pending_request", applicant) == [("/api/me/dossiers", "renewal")]
    else:
        assert created.status_code == 201, created.text
        assert ledger_of(api, "phantom_pending_request", applicant) == []


@pytest.mark.slow
def test_phantom_pending_request_rate(app_api: Api) -> None:
    api = app_api
    seed = applicant_seed()
    api.seed(seed)
    auth, _ = login(api, seed)
    api.set_faults({"id": "phantom_pending_request", "rate": RATE})

    async def attempt_all(http: httpx.AsyncClient) -> list[int]:
        # Drafts do not block a new procedure: every attempt is an eligible event.
        return await a_post_all(http, ["/api/me/dossiers"] * EVENTS, auth, json={"procedure": "renewal"})

    statuses = in_app(api, attempt_all)
    assert set(statuses) <= {201, 409}
    refused = statuses.count(409)
    assert len(api.ledger("phantom_pending_request")) == refused
    assert_binomial(refused)


# --- reset_email_lost ------------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_reset_email_lost(api: Api, smtp: SmtpSink, rate: float) -> None:
    seed, witness = applicant_seed(), applicant_seed()
    api.seed(seed, witness)
    _, applicant = login(api, seed)
    api.set_faults({"id": "reset_email_lost", "rate": rate})

    answer = api.http.post("/api/auth/password-reset", json={"email": seed["email"]})
    nobody = api.http.post("/api/auth/password-reset", json={"email": f"personne.{uuid.uuid4().hex}@example.org"})
    assert answer.status_code == nobody.status_code == 202
    assert answer.json() == nobody.json()  # the applicant is told the same thing either way
    assert "vient de lui être envoyé" in answer.json()["message"]

    # A later e-mail, sent with faults off, is the barrier: the mail worker sends in queue
    # order, so once it has arrived the applicant's own message has arrived too, unless lost.
    api.set_faults()
    assert api.http.post("/api/auth/password-reset", json={"email": witness["email"]}).status_code == 202
    smtp.wait_for(witness["email"])
    if rate:
        assert smtp.to(seed["email"]) == []
        assert ledger_of(api, "reset_email_lost", applicant) == [("/api/auth/password-reset", "reset")]
    else:
        assert len(smtp.to(seed["email"])) == 1
        assert ledger_of(api, "reset_email_lost", applicant) == []


def test_reset_email_lost_late(api: Api, smtp: SmtpSink) -> None:
    seed = applicant_seed()
    api.seed(seed)
    _, applicant = login(api, seed)
    api.set_faults({"id": "reset_email_lost", "rate": 1.0, "params": {"late_seconds": 1.5}})
    started = time.monotonic()
    assert api.http.post("/api/auth/password-reset", json={"email": seed["email"]}).status_code == 202
    smtp.wait_for(seed["email"], timeout=10)
    assert time.monotonic() - started >= 1.5
    assert ledger_of(api, "reset_email_lost", applicant) == [("/api/auth/password-reset", "reset")]


@pytest.mark.slow
def test_reset_email_lost_rate(app_api: Api) -> None:
    api = app_api
    seed = applicant_seed()
    api.seed(seed)
    api.set_faults({"id": "reset_email_lost", "rate": RATE})

    async def reset_all(http: httpx.AsyncClient) -> list[int]:
        return await a_post_all(http, ["/api/auth/password-reset"] * EVENTS, {}, json={"email": seed["email"]})

    assert set(in_app(api, reset_all)) == {202}
    assert_binomial(len(api.ledger("reset_email_lost")))


# --- agent_request_hidden --------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_agent_request_hidden(api: Api, rate: float) -> None:
    seed, agent = applicant_seed(), agent_seed()
    api.seed(seed, agent)
    auth, applicant = login(api, seed)
    agent_auth = api.agent_login(agent)
    dossier_id = submitted_address_change(api, auth)
    at_prefecture(api, agent_auth, dossier_id)
    assert api.http.post(f"/api/agent/dossiers/{dossier_id}/review", headers=agent_auth).status_code == 200
    api.set_faults({"id": "agent_request_hidden", "rate": rate})

    requested = api.http.post(
        f"/api/agent/dossiers/{dossier_id}/requests",
        headers=agent_auth,
        json={"message": "Merci de fournir un justificatif de domicile récent."},
    )
    assert requested.status_code == 201, requested.text
    request_id = requested.json()["id"]
    wait_synced(api)

    agent_view = api.http.get(f"/api/agent/dossiers/{dossier_id}", headers=agent_auth).json()
    assert agent_view["state"] == "complement_requested"
    assert [r["id"] for r in agent_view["requests"]] == [request_id]
    dashboard = [r["id"] for r in api.http.get("/api/me/requests", headers=auth).json()]
    front_state = api.http.get(f"/api/me/dossiers/{dossier_id}", headers=auth).json()["state"]
    if rate:
        assert dashboard == []
        assert front_state == "under_review"  # nothing tells the applicant to act
        assert ledger_of(api, "agent_request_hidden", applicant) == [("sync:agent_request.created", request_id)]
    else:
        assert dashboard == [request_id]
        assert front_state == "complement_requested"
        assert ledger_of(api, "agent_request_hidden", applicant) == []


@pytest.mark.slow
def test_agent_request_hidden_rate(app_api: Api) -> None:
    """Rounds over 100 dossiers: the agent asks on each, the applicant answers what they see
    (a hidden request answers 404), and the answered dossiers go round again."""
    api = app_api
    seeds, agent = [applicant_seed() for _ in range(100)], agent_seed()
    api.seed(*seeds, agent)
    agent_auth = api.agent_login(agent)

    async def file_all(http: httpx.AsyncClient) -> list[tuple[dict[str, str], str]]:
        async def one(seed: dict[str, Any]) -> tuple[dict[str, str], str]:
            auth = await a_login(http, seed)
            return auth, await a_submitted_address_change(http, auth)

        return await gather_bounded(one(seed) for seed in seeds)

    live = in_app(api, file_all)
    wait_synced(api, timeout=30)

    async def review_all(http: httpx.AsyncClient) -> list[int]:
        return await a_post_all(http, [f"/api/agent/dossiers/{d}/review" for _, d in live], agent_auth)

    assert set(in_app(api, review_all)) == {200}
    api.set_faults({"id": "agent_request_hidden", "rate": RATE})
    events = hidden = 0
    while events < EVENTS:
        assert live, "every dossier is stuck behind a hidden request"
        batch = live[: EVENTS - events]
        events += len(batch)

        async def ask(http: httpx.AsyncClient, batch: list[tuple[dict[str, str], str]] = batch) -> list[str]:
            made = await gather_bounded(
                http.post(f"/api/agent/dossiers/{d}/requests", headers=agent_auth, json={"message": "Pièce ?"})
                for _, d in batch
            )
            assert {response.status_code for response in made} == {201}
            return [response.json()["id"] for response in made]

        request_ids = in_app(api, ask)
        wait_synced(api, timeout=30)

        async def answer(
            http: httpx.AsyncClient, batch: list[tuple[dict[str, str], str]] = batch, ids: list[str] = request_ids
        ) -> list[httpx.Response]:
            return await gather_bounded(
                http.post(f"/api/me/requests/{rid}/answer", headers=auth, json={"answer": "Voici."})
                for (auth, _), rid in zip(batch, ids, strict=True)
            )

        answers = in_app(api, answer)
        assert {r.status_code for r in answers} <= {200, 404}
        assert all(r.json()["error"]["code"] == "request_not_found" for r in answers if r.status_code == 404)
        hidden += sum(r.status_code == 404 for r in answers)
        live = [item for item, r in zip(batch, answers, strict=True) if r.status_code == 200]
        wait_synced(api, timeout=30)
    assert len(api.ledger("agent_request_hidden")) == hidden
    assert_binomial(hidden)


# --- document_lost ---------------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_document_lost(api: Api, rate: float) -> None:
    seed, agent = applicant_seed(), agent_seed()
    api.seed(seed, agent)
    auth, applicant = login(api, seed)
    agent_auth = api.agent_login(agent)
    dossier = api.submitted_renewal(auth)
    at_prefecture(api, agent_auth, dossier["id"])
    api.set_faults({"id": "document_lost", "rate": rate})

    uploaded = api.upload(auth, dossier["id"], "complement")
    assert uploaded.status_code == 201, uploaded.text  # acknowledged either way
    document = uploaded.json()
    wait_synced(api)

    mine = {d["id"] for d in api.http.get(f"/api/me/dossiers/{dossier['id']}", headers=auth).json()["documents"]}
    assert document["id"] in mine
    received = {d["id"]: d["sha256"] for d in at_prefecture(api, agent_auth, dossier["id"])["documents"]}
    if rate:
        assert document["id"] not in received
        assert len(received) == 4  # the documents filed with the dossier did arrive
        assert ledger_of(api, "document_lost", applicant) == [("sync:document.added", document["id"])]
    else:
        assert received.get(document["id"]) == document["sha256"]
        assert ledger_of(api, "document_lost", applicant) == []


@pytest.mark.slow
def test_document_lost_rate(app_api: Api) -> None:
    api = app_api
    seed, agent = applicant_seed(), agent_seed()
    api.seed(seed, agent)
    auth, _ = login(api, seed)
    dossier_id = submitted_address_change(api, auth)
    wait_synced(api)
    api.set_faults({"id": "document_lost", "rate": RATE})

    async def upload_all(http: httpx.AsyncClient) -> list[httpx.Response]:
        # Each upload to a filed dossier crosses the seam on its own.
        return await gather_bounded(a_upload(http, auth, dossier_id, "complement") for _ in range(EVENTS))

    assert {r.status_code for r in in_app(api, upload_all)} == {201}
    wait_synced(api, timeout=30)
    lost = len(api.ledger("document_lost"))
    received = at_prefecture(api, api.agent_login(agent), dossier_id)["documents"]
    assert len(received) == 1 + EVENTS - lost  # what the prefecture misses is what the ledger says
    assert_binomial(lost)


# --- procedure_not_forwarded -----------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_procedure_not_forwarded(api: Api, rate: float) -> None:
    seed, agent = applicant_seed(), agent_seed()
    api.seed(seed, agent)
    auth, applicant = login(api, seed)
    agent_auth = api.agent_login(agent)
    api.set_faults({"id": "procedure_not_forwarded", "rate": rate})

    dossier_id = submitted_address_change(api, auth)
    wait_synced(api)
    dashboard = {d["id"]: d for d in api.http.get("/api/me/dossiers", headers=auth).json()}
    assert dashboard[dossier_id]["state"] == "submitted"
    assert dashboard[dossier_id]["receipt_number"]  # the applicant holds an attestation de dépôt
    at_agent = api.http.get(f"/api/agent/dossiers/{dossier_id}", headers=agent_auth)
    queue = {d["id"] for d in api.http.get("/api/agent/queue", headers=agent_auth, params={"limit": 500}).json()}
    if rate:
        assert at_agent.status_code == 404
        assert dossier_id not in queue
        assert ledger_of(api, "procedure_not_forwarded", applicant) == [("sync:dossier.submitted", dossier_id)]
    else:
        assert at_agent.status_code == 200
        assert at_agent.json()["details"] == NEW_ADDRESS
        assert ledger_of(api, "procedure_not_forwarded", applicant) == []


def test_procedure_not_forwarded_spares_other_procedures(api: Api) -> None:
    seed, agent = applicant_seed(), agent_seed()
    api.seed(seed, agent)
    auth, applicant = login(api, seed)
    api.set_faults({"id": "procedure_not_forwarded", "rate": 1.0, "params": {"procedures": ["duplicate"]}})
    dossier_id = submitted_address_change(api, auth)
    at_prefecture(api, api.agent_login(agent), dossier_id)
    assert ledger_of(api, "procedure_not_forwarded", applicant) == []


@pytest.mark.slow
def test_procedure_not_forwarded_rate(app_api: Api) -> None:
    api = app_api
    seeds, agent = [applicant_seed() for _ in range(EVENTS)], agent_seed()
    api.seed(*seeds, agent)
    api.set_faults({"id": "procedure_not_forwarded", "rate": RATE})

    async def file_all(http: httpx.AsyncClient) -> None:
        async def one(seed: dict[str, Any]) -> None:  # one open procedure per applicant
            await a_submitted_address_change(http, await a_login(http, seed))

        await gather_bounded(one(seed) for seed in seeds)

    in_app(api, file_all)
    wait_synced(api, timeout=30)
    lost = len(api.ledger("procedure_not_forwarded"))
    queue = api.http.get("/api/agent/queue", headers=api.agent_login(agent), params={"limit": EVENTS}).json()
    assert len(queue) == EVENTS - lost
    assert_binomial(lost)


# --- procedure_not_selectable ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "procedure"),
    [
        pytest.param(1.0, "renewal", id="rate-1"),
        pytest.param(1.0, "address_change", id="rate-1-address"),
        pytest.param(0.0, "renewal", id="rate-0"),
    ],
)
def test_procedure_not_selectable(api: Api, rate: float, procedure: str) -> None:
    seed = applicant_seed()
    api.seed(seed)
    auth, applicant = login(api, seed)
    api.set_faults({"id": "procedure_not_selectable", "rate": rate, "params": {"procedure": procedure}})

    listed = offers(api, auth)
    if rate:
        assert set(listed) == {"renewal", "address_change", "duplicate"} - {procedure}
        assert all(offer["available"] for offer in listed.values()), listed
        details = NEW_ADDRESS if procedure == "address_change" else {}
        refused = api.http.post("/api/me/dossiers", headers=auth, json={"procedure": procedure, "details": details})
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "procedure_unavailable"
        assert ledger_of(api, "procedure_not_selectable", applicant) == [
            ("/api/me/procedures", procedure),
            ("/api/me/dossiers", procedure),
        ]
    else:
        assert listed[procedure]["available"]
        assert ledger_of(api, "procedure_not_selectable", applicant) == []


@pytest.mark.slow
def test_procedure_not_selectable_rate(app_api: Api) -> None:
    api = app_api
    seed = applicant_seed()
    api.seed(seed)
    auth, _ = login(api, seed)
    api.set_faults({"id": "procedure_not_selectable", "rate": RATE})

    async def list_all(http: httpx.AsyncClient) -> list[httpx.Response]:
        return await gather_bounded(http.get("/api/me/procedures", headers=auth) for _ in range(EVENTS))

    listings = in_app(api, list_all)
    assert {r.status_code for r in listings} == {200}
    missing = sum("renewal" not in {offer["id"] for offer in r.json()} for r in listings)
    assert len(api.ledger("procedure_not_selectable")) == missing
    assert_binomial(missing)
