"""Acceptance 1: every journey over real HTTP with faults off, each effect seen across the seam
within 2 s (login, reset through a real SMTP server, renewal with uploads, agent request round
trip, address change, card handover)."""

from __future__ import annotations

import re

import pytest

from tests.support import Api, SmtpSink, agent_seed, applicant_seed, body_of, wait_until

SEAM_DEADLINE = 2.0


def test_login_and_dashboard(api: Api) -> None:
    seed = applicant_seed()
    api.seed(seed)
    auth = api.login(seed)
    profile = api.http.get("/api/me", headers=auth).json()
    assert profile["foreign_number"] == seed["foreign_number"]
    assert profile["card"]["state"] == "handed_over"
    assert api.http.post("/api/auth/logout", headers=auth).status_code == 204
    assert api.http.get("/api/me", headers=auth).status_code == 401


def test_password_reset_through_real_smtp(api: Api, smtp: SmtpSink) -> None:
    seed = applicant_seed()
    api.seed(seed)
    answer = api.http.post("/api/auth/password-reset", json={"email": seed["email"]})
    assert answer.status_code == 202
    message = smtp.wait_for(seed["email"], timeout=SEAM_DEADLINE)[0]
    token = re.search(r"jeton=([\w-]+)", body_of(message))
    assert token, body_of(message)
    new_password = "Nouveau-mot-de-passe-42"
    confirmed = api.http.post(
        "/api/auth/password-reset/confirm", json={"token": token.group(1), "password": new_password}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert (
        api.http.post("/api/auth/login", json={"identifier": seed["email"], "password": seed["password"]}).status_code
        == 401
    )
    api.login(seed, password=new_password)


def test_renewal_reaches_the_prefecture_with_every_document(api: Api) -> None:
    seed, agent = applicant_seed(), agent_seed()
    api.seed(seed, agent)
    auth = api.login(seed)
    offers = {o["id"]: o for o in api.http.get("/api/me/procedures", headers=auth).json()}
    assert offers["renewal"]["available"], offers
    dossier = api.submitted_renewal(auth)
    assert dossier["state"] == "submitted"
    assert dossier["receipt_number"]
    receipt = api.http.get(f"/api/me/dossiers/{dossier['id']}/receipt", headers=auth).json()
    assert receipt["receipt_number"] == dossier["receipt_number"]
    assert "ne vaut pas preuve" in receipt["notice"]

    agent_auth = api.agent_login(agent)
    seen = wait_until(
        lambda: (
            (r := api.http.get(f"/api/agent/dossiers/{dossier['id']}", headers=agent_auth)).status_code == 200
            and r.json()
        ),
        timeout=SEAM_DEADLINE,
    )
    sent = {d["id"]: d["sha256"] for d in dossier["documents"]}
    assert {d["id"]: d["sha256"] for d in seen["documents"]} == sent
    one = seen["documents"][0]
    content = api.http.get(f"/api/agent/dossiers/{dossier['id']}/documents/{one['id']}/content", headers=agent_auth)
    import hashlib

    assert hashlib.sha256(content.content).hexdigest() == one["sha256"]


def test_agent_request_round_trip(api: Api) -> None:
    seed, agent = applicant_seed(), agent_seed()
    api.seed(seed, agent)
    auth, agent_auth = api.login(seed), api.agent_login(agent)
    dossier = api.submitted_renewal(auth)
    wait_until(
        lambda: api.http.get(f"/api/agent/dossiers/{dossier['id']}", headers=agent_auth).status_code == 200,
        SEAM_DEADLINE,
    )
    assert api.http.post(f"/api/agent/dossiers/{dossier['id']}/review", headers=agent_auth).status_code == 200
    request = api.http.post(
        f"/api/agent/dossiers/{dossier['id']}/requests",
        headers=agent_auth,
        json={"message": "Merci de fournir un justificatif de domicile récent."},
    )
    assert request.status_code == 201, request.text
    request_id = request.json()["id"]
    visible = wait_until(
        lambda: [r for r in api.http.get("/api/me/requests", headers=auth).json() if r["id"] == request_id],
        SEAM_DEADLINE,
    )
    assert visible[0]["message"].startswith("Merci")
    assert (
        api.http.post(
            f"/api/me/requests/{request_id}/answer", headers=auth, json={"answer": "Voici le justificatif."}
        ).status_code
        == 200
    )

    def answered() -> bool:
        found = api.http.get(f"/api/agent/dossiers/{dossier['id']}", headers=agent_auth).json()
        return found["state"] == "under_review" and found["requests"][0]["answer"] == "Voici le justificatif."

    wait_until(answered, SEAM_DEADLINE)


def test_address_change_reaches_the_prefecture_and_comes_back(api: Api) -> None:
    seed, agent = applicant_seed(), agent_seed()
    api.seed(seed, agent)
    auth, agent_auth = api.login(seed), api.agent_login(agent)
    details = {"address": "3 avenue Jean Jaurès", "postcode": "75019", "city": "Paris"}
    created = api.http.post("/api/me/dossiers", headers=auth, json={"procedure": "address_change", "details": details})
    assert created.status_code == 201, created.text
    dossier_id = created.json()["id"]
    assert api.upload(auth, dossier_id, "proof_of_address").status_code == 201
    assert api.http.post(f"/api/me/dossiers/{dossier_id}/submit", headers=auth).status_code == 200
    at_prefecture = wait_until(
        lambda: (
            (r := api.http.get(f"/api/agent/dossiers/{dossier_id}", headers=agent_auth)).status_code == 200 and r.json()
        ),
        SEAM_DEADLINE,
    )
    assert at_prefecture["details"] == details
    api.http.post(f"/api/agent/dossiers/{dossier_id}/review", headers=agent_auth)
    decided = api.http.post(
        f"/api/agent/dossiers/{dossier_id}/decision", headers=agent_auth, json={"decision": "accepted"}
    )
    assert decided.status_code == 200, decided.text
    wait_until(lambda: api.http.get("/api/me", headers=auth).json()["address"] == details["address"], SEAM_DEADLINE)


def test_card_handover_reaches_the_front_office(api: Api) -> None:
    seed, agent = applicant_seed(card_state="available"), agent_seed()
    api.seed(seed, agent)
    auth, agent_auth = api.login(seed), api.agent_login(agent)
    offers = {o["id"]: o for o in api.http.get("/api/me/procedures", headers=auth).json()}
    assert not offers["renewal"]["available"]
    assert "remis" in offers["renewal"]["reason"]
    card_id = api.http.get("/api/me", headers=auth).json()["card"]["id"]
    handed = api.http.post(f"/api/agent/cards/{card_id}/handover", headers=agent_auth)
    assert handed.status_code == 200, handed.text
    wait_until(lambda: api.http.get("/api/me", headers=auth).json()["card"]["state"] == "handed_over", SEAM_DEADLINE)
    offers = {o["id"]: o for o in api.http.get("/api/me/procedures", headers=auth).json()}
    assert offers["renewal"]["available"]


def test_whole_renewal_lifecycle_to_a_new_card(api: Api) -> None:
    seed, agent = applicant_seed(), agent_seed()
    api.seed(seed, agent)
    auth, agent_auth = api.login(seed), api.agent_login(agent)
    dossier_id = api.submitted_renewal(auth)["id"]
    wait_until(
        lambda: api.http.get(f"/api/agent/dossiers/{dossier_id}", headers=agent_auth).status_code == 200, SEAM_DEADLINE
    )
    for step, body in (
        ("review", None),
        ("decision", {"decision": "accepted"}),
        ("card/produce", None),
        ("card/available", None),
    ):
        response = api.http.post(f"/api/agent/dossiers/{dossier_id}/{step}", headers=agent_auth, json=body)
        assert response.status_code == 200, (step, response.text)
    card_id = response.json()["id"]
    assert api.http.post(f"/api/agent/cards/{card_id}/handover", headers=agent_auth).status_code == 200

    def front_knows() -> bool:
        me = api.http.get("/api/me", headers=auth).json()
        state = api.http.get(f"/api/me/dossiers/{dossier_id}", headers=auth).json()["state"]
        return me["card"]["id"] == card_id and me["card"]["state"] == "handed_over" and state == "handed_over"

    wait_until(front_knows, SEAM_DEADLINE)
    again = api.http.post(f"/api/agent/cards/{card_id}/handover", headers=agent_auth)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "card_not_available"


@pytest.mark.parametrize("procedure", ["renewal"])
def test_html_pages_answer_in_french(api: Api, procedure: str) -> None:
    page = api.http.get("/connexion")
    assert page.status_code == 200
    assert 'lang="fr"' in page.text
    assert "Mot de passe oublié" in page.text
