"""The generic faults (names after Toxiproxy and xk6-disruptor): latency, http_error, outage,
timeout, connection_reset, email_delay, session_drop, sync_delay.

For each: at rate 1 the client sees the fault and the ledger names it with the applicant and
the route; at rate 0 nothing happens; at rate 0.1 over 500 eligible events the ledger count
lies inside the two-sided binomial bounds at p < 0.001. Symptoms are observed over real HTTP
against the platform process, as a client lives them (a reset socket, a read timeout); the
counts use the in-process app, except for connection_reset, which needs real sockets.
"""

from __future__ import annotations

import time
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
RESET_SUBJECT = "ANEF : réinitialisation de votre mot de passe"
NEW_ADDRESS = {"address": "3 rue Oberkampf", "postcode": "75011", "city": "Paris"}


# --- helpers ---------------------------------------------------------------------------------


def signed_in(api: Api) -> tuple[dict[str, str], str]:
    seed = applicant_seed()
    api.seed(seed)
    return login(api, seed)


def assert_binomial(count: int, n: int = EVENTS, p: float = RATE) -> None:
    low, high = binomial_bounds(n, p)
    assert low <= count <= high, f"{count} firings in {n} events at rate {p}: expected {low}..{high}"


async def a_login(http: httpx.AsyncClient, seed: dict[str, Any]) -> dict[str, str]:
    response = await http.post("/api/auth/login", json={"identifier": seed["email"], "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def timed_get(api: Api, path: str, **kwargs: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = api.http.get(path, **kwargs)
    return response, time.monotonic() - started


# --- the HTTP faults, applied at the edge ----------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_latency(api: Api, rate: float) -> None:
    auth, applicant = signed_in(api)
    api.set_faults({"id": "latency", "rate": rate, "params": {"mean_ms": 800}})
    response, elapsed = timed_get(api, "/api/me", headers=auth)
    assert response.status_code == 200  # slow, not wrong
    if rate:
        assert elapsed >= 0.8
        assert ledger_of(api, "latency", applicant) == [("/api/me", None)]
    else:
        assert elapsed < 0.8
        assert ledger_of(api, "latency", applicant) == []


@pytest.mark.parametrize("rate", RATES)
def test_http_error(api: Api, rate: float) -> None:
    auth, applicant = signed_in(api)
    api.set_faults({"id": "http_error", "rate": rate, "params": {"status": 502}})
    response = api.http.get("/api/me", headers=auth)
    assert api.http.get("/healthz").status_code == 200  # operations routes are never faulted
    if rate:
        assert response.status_code == 502
        assert response.json() == {"error": {"code": "server_error", "message": "Une erreur est survenue."}}
        assert ledger_of(api, "http_error", applicant) == [("/api/me", None)]
    else:
        assert response.status_code == 200
        assert response.json()["id"] == applicant
        assert ledger_of(api, "http_error", applicant) == []


@pytest.mark.parametrize("rate", RATES)
def test_outage(api: Api, rate: float) -> None:
    auth, applicant = signed_in(api)
    api.set_faults({"id": "outage", "rate": rate})
    response = api.http.get("/api/me", headers=auth)
    page = api.http.get("/connexion")
    assert api.http.get("/healthz").status_code == 200
    if rate:
        assert response.status_code == page.status_code == 503
        assert response.json()["error"] == {
            "code": "service_unavailable",
            "message": "Le service est momentanément indisponible.",
        }
        # The page request carries the session cookie set at login: the same applicant.
        assert ledger_of(api, "outage", applicant) == [("/api/me", None), ("/connexion", None)]
    else:
        assert response.status_code == page.status_code == 200
        assert ledger_of(api, "outage", applicant) == []


@pytest.mark.parametrize("rate", RATES)
def test_timeout(api: Api, rate: float) -> None:
    auth, applicant = signed_in(api)
    api.set_faults({"id": "timeout", "rate": rate, "params": {"hang_seconds": 1.0}})
    response, elapsed = timed_get(api, "/api/me", headers=auth)
    if rate:
        assert response.status_code == 504
        assert elapsed >= 1.0  # it hung first
        assert response.json()["error"]["code"] == "gateway_timeout"
        with pytest.raises(httpx.ReadTimeout):  # a client less patient than the gateway
            api.http.get("/api/me", headers=auth, timeout=0.3)
        assert ledger_of(api, "timeout", applicant) == [("/api/me", None)] * 2
    else:
        assert response.status_code == 200
        assert elapsed < 1.0
        assert api.http.get("/api/me", headers=auth, timeout=0.3).status_code == 200
        assert ledger_of(api, "timeout", applicant) == []


@pytest.mark.parametrize("rate", RATES)
def test_connection_reset(api: Api, rate: float) -> None:
    auth, applicant = signed_in(api)
    api.set_faults({"id": "connection_reset", "rate": rate})
    if rate:
        with pytest.raises(httpx.RemoteProtocolError):  # the body stops short, the socket closes
            api.http.get("/api/me", headers=auth)
        assert ledger_of(api, "connection_reset", applicant) == [("/api/me", None)]
    else:
        assert api.http.get("/api/me", headers=auth).status_code == 200
        assert ledger_of(api, "connection_reset", applicant) == []
    api.set_faults()
    assert api.http.get("/api/me", headers=auth).status_code == 200  # the client recovers


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["latency", "http_error", "outage", "timeout"])
def test_http_fault_rate(app_api: Api, fault: str) -> None:
    api = app_api
    params = {"latency": {"mean_ms": 1}, "timeout": {"hang_seconds": 0.01}}.get(fault, {})
    api.set_faults({"id": fault, "rate": RATE, "params": params})

    async def get_all(http: httpx.AsyncClient) -> list[int]:
        responses = await gather_bounded(http.get("/api/me") for _ in range(EVENTS))
        return [response.status_code for response in responses]

    statuses = in_app(api, get_all)  # anonymous: 401 unless the fault answers first
    fired = len(api.ledger(fault))
    if fault == "latency":
        assert set(statuses) == {401}  # late, not different
    else:
        expected = {"http_error": 500, "outage": 503, "timeout": 504}[fault]
        assert statuses.count(expected) == fired
        assert statuses.count(401) == EVENTS - fired
    assert_binomial(fired)


@pytest.mark.slow
def test_connection_reset_rate(api: Api) -> None:
    """Over real sockets, one request at a time: a reset is only seen on a real connection."""
    auth, applicant = signed_in(api)
    api.set_faults({"id": "connection_reset", "rate": RATE})
    resets = 0
    for _ in range(EVENTS):
        try:
            assert api.http.get("/api/me", headers=auth).status_code == 200
        except httpx.RemoteProtocolError:
            resets += 1
    assert len(ledger_of(api, "connection_reset", applicant)) == resets
    assert_binomial(resets)


# --- email_delay -----------------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_email_delay(api: Api, smtp: SmtpSink, rate: float) -> None:
    seed = applicant_seed()
    api.seed(seed)
    _, applicant = login(api, seed)
    api.set_faults({"id": "email_delay", "rate": rate, "params": {"delay_seconds": 2.0}})
    started = time.monotonic()
    assert api.http.post("/api/auth/password-reset", json={"email": seed["email"]}).status_code == 202
    smtp.wait_for(seed["email"], timeout=10)
    elapsed = time.monotonic() - started
    if rate:
        assert elapsed >= 2.0
        assert ledger_of(api, "email_delay", applicant) == [("/api/auth/password-reset", RESET_SUBJECT)]
    else:
        assert elapsed < 2.0
        assert ledger_of(api, "email_delay", applicant) == []


@pytest.mark.slow
def test_email_delay_rate(app_api: Api) -> None:
    api = app_api
    seed = applicant_seed()
    api.seed(seed)
    api.set_faults({"id": "email_delay", "rate": RATE, "params": {"delay_seconds": 60}})

    async def reset_all(http: httpx.AsyncClient) -> list[httpx.Response]:  # each reset queues one e-mail
        return await gather_bounded(
            http.post("/api/auth/password-reset", json={"email": seed["email"]}) for _ in range(EVENTS)
        )

    assert {response.status_code for response in in_app(api, reset_all)} == {202}
    assert_binomial(len(api.ledger("email_delay")))


# --- session_drop ----------------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_session_drop(api: Api, rate: float) -> None:
    seed = applicant_seed()
    api.seed(seed)
    auth, applicant = login(api, seed)
    api.set_faults({"id": "session_drop", "rate": rate})
    response = api.http.get("/api/me", headers=auth)
    api.set_faults()
    after = api.http.get("/api/me", headers=auth)
    if rate:
        assert response.status_code == 401
        assert response.json()["error"] == {
            "code": "session_expired",
            "message": "Votre session a expiré. Veuillez vous reconnecter.",
        }
        assert after.status_code == 401  # the session is gone, not refused once
        again, _ = login(api, seed)
        assert api.http.get("/api/me", headers=again).status_code == 200
        assert ledger_of(api, "session_drop", applicant) == [("/api/me", None)]
    else:
        assert response.status_code == after.status_code == 200
        assert ledger_of(api, "session_drop", applicant) == []


@pytest.mark.slow
def test_session_drop_rate(app_api: Api) -> None:
    """Four applicants browse side by side; each logs in again when their session is dropped."""
    api = app_api
    seeds = [applicant_seed() for _ in range(4)]
    api.seed(*seeds)
    api.set_faults({"id": "session_drop", "rate": RATE})

    async def browse(http: httpx.AsyncClient, seed: dict[str, Any], requests: int) -> int:
        dropped = 0
        auth = await a_login(http, seed)
        for _ in range(requests):  # every authenticated request is eligible
            response = await http.get("/api/me", headers=auth)
            if response.status_code == 401:
                assert response.json()["error"]["code"] == "session_expired"
                dropped += 1
                auth = await a_login(http, seed)
            else:
                assert response.status_code == 200
        return dropped

    async def browse_all(http: httpx.AsyncClient) -> list[int]:
        return await gather_bounded(browse(http, seed, EVENTS // len(seeds)) for seed in seeds)

    dropped = sum(in_app(api, browse_all))
    assert len(api.ledger("session_drop")) == dropped
    assert_binomial(dropped)


# --- sync_delay ------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_sync_delay(api: Api, rate: float) -> None:
    seed, agent = applicant_seed(), agent_seed()
    api.seed(seed, agent)
    auth, applicant = login(api, seed)
    agent_auth = api.agent_login(agent)
    created = api.http.post(
        "/api/me/dossiers", headers=auth, json={"procedure": "address_change", "details": NEW_ADDRESS}
    )
    assert created.status_code == 201, created.text
    dossier_id = created.json()["id"]
    assert api.upload(auth, dossier_id, "proof_of_address").status_code == 201
    assert api.http.post(f"/api/me/dossiers/{dossier_id}/submit", headers=auth).status_code == 200
    wait_synced(api)
    api.set_faults({"id": "sync_delay", "rate": rate, "params": {"delay_seconds": 2.0}})

    started = time.monotonic()
    uploaded = api.upload(auth, dossier_id, "complement", pdf_bytes(2_000))
    assert uploaded.status_code == 201
    document_id = uploaded.json()["id"]
    if rate:
        assert api.admin("GET", "/_admin/sync").json()["pending"] >= 1  # held back, not lost

    def received() -> bool:
        documents = api.http.get(f"/api/agent/dossiers/{dossier_id}", headers=agent_auth).json()["documents"]
        return document_id in {d["id"] for d in documents}

    wait_until(received, timeout=10)
    elapsed = time.monotonic() - started
    if rate:
        assert elapsed >= 2.0
        assert ledger_of(api, "sync_delay", applicant) == [("sync:document.added", document_id)]
    else:
        assert elapsed < 2.0
        assert ledger_of(api, "sync_delay", applicant) == []


@pytest.mark.slow
def test_sync_delay_rate(app_api: Api) -> None:
    api = app_api
    seeds, agent = [applicant_seed(card_state="available") for _ in range(EVENTS)], agent_seed()
    api.seed(*seeds, agent)
    agent_auth = api.agent_login(agent)
    cards = api.http.get("/api/agent/cards", headers=agent_auth, params={"state": "available", "limit": EVENTS}).json()
    assert len(cards) == EVENTS
    api.set_faults({"id": "sync_delay", "rate": RATE, "params": {"delay_seconds": 3600}})

    async def hand_over_all(http: httpx.AsyncClient) -> list[httpx.Response]:
        # Each handover puts one message in the prefecture's outbox.
        return await gather_bounded(
            http.post(f"/api/agent/cards/{card['id']}/handover", headers=agent_auth) for card in cards
        )

    assert {response.status_code for response in in_app(api, hand_over_all)} == {200}
    delayed = len(api.ledger("sync_delay"))
    # The bridge carries every other message; exactly the delayed ones stay behind.
    wait_until(lambda: api.admin("GET", "/_admin/sync").json()["pending"] == delayed, timeout=30)
    assert_binomial(delayed)
