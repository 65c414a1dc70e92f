"""Security protections of the reference platform, one test per protection: each test fails if
its protection is removed (ownership checks, prefecture scoping, argon2id, reset tokens,
throttling, cookie flags, CSRF, the admin token, upload checks, session invalidation)."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from reference_platform.app import create_app
from reference_platform.domain.security import Passwords
from reference_platform.settings import PasswordCost, Settings
from tests.support import (
    ADMIN_TOKEN,
    PASSWORD,
    Api,
    PlatformProcess,
    SmtpSink,
    agent_seed,
    applicant_seed,
    body_of,
    jpeg_bytes,
    pdf_bytes,
    png_bytes,
    wait_until,
)

SEAM_DEADLINE = 5.0
NEW_PASSWORD = "Nouveau-mot-de-passe-42"
TOKEN_IN_MAIL = re.compile(r"jeton=([\w-]+)")
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


# --- helpers ---------------------------------------------------------------------------------


def missing_id() -> str:
    return uuid.uuid4().hex


def sqlite_file(data_dir: Path, name: str, database_url: str | None) -> Path:
    if database_url is not None:
        pytest.skip("inspects the SQLite files; this run uses PostgreSQL")
    path = data_dir / name
    assert path.exists(), path
    return path


@contextmanager
def sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(path, timeout=30)) as db:
        yield db


def reset_tokens_from_mail(api: Api, smtp: SmtpSink, email: str, count: int) -> list[str]:
    for _ in range(count):
        assert api.http.post("/api/auth/password-reset", json={"email": email}).status_code == 202
    messages = smtp.wait_for(email, timeout=SEAM_DEADLINE, count=count)
    tokens = [TOKEN_IN_MAIL.search(body_of(m)) for m in messages]
    assert all(tokens), [body_of(m) for m in messages]
    return [t.group(1) for t in tokens if t]


def cookie_attributes(response: httpx.Response, name: str) -> dict[str, str]:
    """The attributes of one Set-Cookie header, lower-cased names ("httponly" maps to "")."""
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        if first.partition("=")[0] == name:
            return {k.lower(): v for k, _, v in (a.partition("=") for a in attributes)}
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


def csrf_of(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    found = CSRF_FIELD.search(page.text)
    assert found, page.text
    return found.group(1)


def agent_sees(api: Api, agent_auth: dict[str, str], dossier_id: str) -> None:
    wait_until(
        lambda: api.http.get(f"/api/agent/dossiers/{dossier_id}", headers=agent_auth).status_code == 200,
        SEAM_DEADLINE,
    )


@pytest.fixture
def browser(platform: PlatformProcess) -> Iterator[httpx.Client]:
    """A second client with its own cookie jar, as a browser would have."""
    with httpx.Client(base_url=platform.url, timeout=10) as client:
        yield client


# --- applicants see only their own data ------------------------------------------------------


def test_applicant_cannot_reach_another_applicants_dossier(api: Api, browser: httpx.Client) -> None:
    owner, intruder = applicant_seed(), applicant_seed(given_name="Intrus")
    api.seed(owner, intruder)
    owner_auth, intruder_auth = api.login(owner), api.login(intruder)
    dossier = api.submitted_renewal(owner_auth)
    browser.cookies.set("anef_session", intruder_auth["Authorization"].removeprefix("Bearer "))

    def attempts(dossier_id: str) -> dict[str, httpx.Response]:
        http = api.http
        return {
            "get": http.get(f"/api/me/dossiers/{dossier_id}", headers=intruder_auth),
            "upload": api.upload(intruder_auth, dossier_id, "complement"),
            "submit": http.post(f"/api/me/dossiers/{dossier_id}/submit", headers=intruder_auth),
            "receipt": http.get(f"/api/me/dossiers/{dossier_id}/receipt", headers=intruder_auth),
            "cancel": http.delete(f"/api/me/dossiers/{dossier_id}", headers=intruder_auth),
            "page": browser.get(f"/dossiers/{dossier_id}"),
            "receipt page": browser.get(f"/dossiers/{dossier_id}/attestation"),
        }

    on_owners = attempts(dossier["id"])
    on_missing = attempts(missing_id())
    for action, response in on_owners.items():
        assert response.status_code == 404, (action, response.status_code, response.text)
        if not action.endswith("page"):
            assert response.json() == on_missing[action].json(), action  # indistinguishable from a missing one
            assert response.json()["error"]["code"] == "dossier_not_found"
        assert dossier["receipt_number"] not in response.text
        assert owner["foreign_number"] not in response.text

    seen_by_owner = api.http.get(f"/api/me/dossiers/{dossier['id']}", headers=owner_auth).json()
    assert seen_by_owner["state"] == "submitted"
    assert len(seen_by_owner["documents"]) == len(dossier["documents"])
    assert api.http.get("/api/me/dossiers", headers=intruder_auth).json() == []


def test_applicant_cannot_answer_another_applicants_request(api: Api) -> None:
    owner, intruder, agent = applicant_seed(), applicant_seed(), agent_seed()
    api.seed(owner, intruder, agent)
    owner_auth, intruder_auth, agent_auth = api.login(owner), api.login(intruder), api.agent_login(agent)
    dossier = api.submitted_renewal(owner_auth)
    agent_sees(api, agent_auth, dossier["id"])
    assert api.http.post(f"/api/agent/dossiers/{dossier['id']}/review", headers=agent_auth).status_code == 200
    created = api.http.post(
        f"/api/agent/dossiers/{dossier['id']}/requests",
        headers=agent_auth,
        json={"message": "Merci de fournir un justificatif de ressources récent."},
    )
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    wait_until(
        lambda: any(r["id"] == request_id for r in api.http.get("/api/me/requests", headers=owner_auth).json()),
        SEAM_DEADLINE,
    )

    stolen = api.http.post(f"/api/me/requests/{request_id}/answer", headers=intruder_auth, json={"answer": "Piratage"})
    missing = api.http.post(
        f"/api/me/requests/{missing_id()}/answer", headers=intruder_auth, json={"answer": "Piratage"}
    )
    assert stolen.status_code == 404, stolen.text
    assert stolen.json() == missing.json()
    assert stolen.json()["error"]["code"] == "request_not_found"
    assert api.http.get("/api/me/requests", headers=intruder_auth).json() == []

    mine = [r for r in api.http.get("/api/me/requests", headers=owner_auth).json() if r["id"] == request_id]
    assert mine[0]["answer"] is None
    answered = api.http.post(f"/api/me/requests/{request_id}/answer", headers=owner_auth, json={"answer": "Voici."})
    assert answered.status_code == 200, answered.text
    assert answered.json()["answer"] == "Voici."


# --- agents see only their prefecture --------------------------------------------------------


def test_agent_sees_only_own_prefectures_dossiers_and_cards(api: Api) -> None:
    paris, marseille = (
        applicant_seed(prefecture="75"),
        applicant_seed(prefecture="13", postcode="13001", city="Marseille"),
    )
    paris_card, marseille_card = (
        applicant_seed(card_state="available"),
        applicant_seed(prefecture="13", card_state="available", postcode="13001", city="Marseille"),
    )
    agent_75, agent_13 = agent_seed("75"), agent_seed("13")
    api.seed(paris, marseille, paris_card, marseille_card, agent_75, agent_13)
    auth_75, auth_13 = api.agent_login(agent_75), api.agent_login(agent_13)
    paris_dossier = api.submitted_renewal(api.login(paris))
    marseille_dossier = api.submitted_renewal(api.login(marseille))
    agent_sees(api, auth_75, paris_dossier["id"])
    agent_sees(api, auth_13, marseille_dossier["id"])

    other = paris_dossier["id"]
    document_id = paris_dossier["documents"][0]["id"]
    refused = {
        "get": api.http.get(f"/api/agent/dossiers/{other}", headers=auth_13),
        "content": api.http.get(f"/api/agent/dossiers/{other}/documents/{document_id}/content", headers=auth_13),
        "review": api.http.post(f"/api/agent/dossiers/{other}/review", headers=auth_13),
        "request": api.http.post(f"/api/agent/dossiers/{other}/requests", headers=auth_13, json={"message": "Pièce ?"}),
        "decision": api.http.post(
            f"/api/agent/dossiers/{other}/decision", headers=auth_13, json={"decision": "refused"}
        ),
    }
    missing = api.http.get(f"/api/agent/dossiers/{missing_id()}", headers=auth_13)
    for action, response in refused.items():
        assert response.status_code == 404, (action, response.text)
        assert response.json() == missing.json(), action
    assert api.http.get(f"/api/agent/dossiers/{other}", headers=auth_75).json()["state"] == "submitted"

    queue_13 = {d["id"] for d in api.http.get("/api/agent/queue", headers=auth_13, params={"limit": 500}).json()}
    queue_75 = {d["id"] for d in api.http.get("/api/agent/queue", headers=auth_75, params={"limit": 500}).json()}
    assert marseille_dossier["id"] in queue_13
    assert paris_dossier["id"] not in queue_13
    assert paris_dossier["id"] in queue_75
    assert marseille_dossier["id"] not in queue_75

    paris_card_id = api.http.get("/api/me", headers=api.login(paris_card)).json()["card"]["id"]
    marseille_card_id = api.http.get("/api/me", headers=api.login(marseille_card)).json()["card"]["id"]
    cards_13 = {c["id"] for c in api.http.get("/api/agent/cards", headers=auth_13, params={"limit": 500}).json()}
    assert marseille_card_id in cards_13
    assert paris_card_id not in cards_13
    handover = api.http.post(f"/api/agent/cards/{paris_card_id}/handover", headers=auth_13)
    missing_card = api.http.post(f"/api/agent/cards/{missing_id()}/handover", headers=auth_13)
    assert handover.status_code == 404, handover.text
    assert handover.json() == missing_card.json()
    assert handover.json()["error"]["code"] == "card_not_found"
    # Still available: the prefecture that holds it can hand it over.
    assert api.http.post(f"/api/agent/cards/{paris_card_id}/handover", headers=auth_75).status_code == 200


# --- passwords -------------------------------------------------------------------------------


def test_stored_passwords_are_argon2id_hashes(api: Api, platform: PlatformProcess) -> None:
    applicant, agent = applicant_seed(), agent_seed()
    api.seed(applicant, agent)
    with sqlite(sqlite_file(platform.data_dir, "front.db", platform.database_url)) as db:
        row = db.execute("SELECT password_hash FROM applicants WHERE email = ?", (applicant["email"],)).fetchone()
        everything = "\n".join(str(r) for r in db.execute("SELECT * FROM applicants"))
    with sqlite(sqlite_file(platform.data_dir, "back.db", platform.database_url)) as db:
        agent_row = db.execute("SELECT password_hash FROM agents WHERE login = ?", (agent["login"],)).fetchone()
    for stored, password in ((row[0], applicant["password"]), (agent_row[0], agent["password"])):
        assert stored.startswith("$argon2id$"), stored
        assert password not in stored
        # Seeded accounts are synthetic: they carry the cheap cost of the settings.
        assert "$m=8,t=1,p=1$" in stored, stored
    assert applicant["password"] not in everything
    api.login(applicant)  # and the hash does verify the password


def test_password_cost_is_taken_from_the_settings() -> None:
    settings = Settings()
    passwords = Passwords(settings.password_cost, settings.synthetic_password_cost)
    real = passwords.hash(PASSWORD, synthetic=False)
    synthetic = passwords.hash(PASSWORD, synthetic=True)
    assert real.startswith("$argon2id$")
    assert "$m=19456,t=2,p=1$" in real, real
    assert synthetic.startswith("$argon2id$")
    assert "$m=8,t=1,p=1$" in synthetic, synthetic
    assert PASSWORD not in real
    assert PASSWORD not in synthetic
    assert passwords.verify(real, PASSWORD)
    assert passwords.verify(synthetic, PASSWORD)
    assert not passwords.verify(real, PASSWORD + "x")

    custom = Settings(
        password_cost=PasswordCost(time_cost=3, memory_cost_kib=1024),
        synthetic_password_cost=PasswordCost(time_cost=2, memory_cost_kib=64),
    )
    other = Passwords(custom.password_cost, custom.synthetic_password_cost)
    assert "$m=1024,t=3,p=1$" in other.hash(PASSWORD, synthetic=False)
    assert "$m=64,t=2,p=1$" in other.hash(PASSWORD, synthetic=True)


# --- password reset --------------------------------------------------------------------------


def test_reset_tokens_are_random_and_stored_hashed(api: Api, platform: PlatformProcess, smtp: SmtpSink) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    first, second = reset_tokens_from_mail(api, smtp, applicant["email"], count=2)
    assert first != second
    assert len(first) >= 32
    with sqlite(sqlite_file(platform.data_dir, "front.db", platform.database_url)) as db:
        rows = db.execute("SELECT * FROM reset_tokens").fetchall()
        hashes = {r[0] for r in db.execute("SELECT token_hash FROM reset_tokens")}
    dump = "\n".join(str(r) for r in rows)
    for token in (first, second):
        assert token not in dump
        assert hashlib.sha256(token.encode()).hexdigest() in hashes


def test_reset_token_is_single_use(api: Api, smtp: SmtpSink) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    (token,) = reset_tokens_from_mail(api, smtp, applicant["email"], count=1)
    confirm = "/api/auth/password-reset/confirm"
    assert api.http.post(confirm, json={"token": token, "password": NEW_PASSWORD}).status_code == 200
    again = api.http.post(confirm, json={"token": token, "password": "Encore-un-autre-99"})
    assert again.status_code == 422, again.text
    assert again.json()["error"]["code"] == "invalid_reset_token"
    api.login(applicant, password=NEW_PASSWORD)
    assert (
        api.http.post(
            "/api/auth/login", json={"identifier": applicant["email"], "password": "Encore-un-autre-99"}
        ).status_code
        == 401
    )


def test_reset_token_expires(app_settings: Settings, smtp: SmtpSink) -> None:
    settings = app_settings.model_copy(update={"reset_token_ttl_seconds": 60})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        api = Api(client)
        applicant = applicant_seed()
        api.seed(applicant)
        requested_at = datetime.now(UTC)
        for _ in range(2):
            assert client.post("/api/auth/password-reset", json={"email": applicant["email"]}).status_code == 202
        front_db = sqlite_file(settings.data_dir, "front.db", settings.database_url)
        # The links as the applicant receives them (the platform keeps no copy once they are sent).
        bodies = [body_of(m) for m in smtp.wait_for(applicant["email"], timeout=10, count=2)]
        with sqlite(front_db) as db:
            expired, fresh = [m.group(1) for m in map(TOKEN_IN_MAIL.search, bodies) if m]
            stored = db.execute(
                "SELECT expires_at FROM reset_tokens WHERE token_hash = ?",
                (hashlib.sha256(expired.encode()).hexdigest(),),
            ).fetchone()[0]
            lifetime = datetime.fromisoformat(stored).replace(tzinfo=UTC) - requested_at
            assert timedelta(seconds=55) < lifetime < timedelta(seconds=65), lifetime  # the setting, not 30 min
            past = (datetime.now(UTC) - timedelta(seconds=1)).replace(tzinfo=None).isoformat(sep=" ")
            with db:
                db.execute(
                    "UPDATE reset_tokens SET expires_at = ? WHERE token_hash = ?",
                    (past, hashlib.sha256(expired.encode()).hexdigest()),
                )
        refused = client.post("/api/auth/password-reset/confirm", json={"token": expired, "password": NEW_PASSWORD})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "invalid_reset_token"
        assert (
            client.post(
                "/api/auth/login", json={"identifier": applicant["email"], "password": NEW_PASSWORD}
            ).status_code
            == 401
        )
        accepted = client.post("/api/auth/password-reset/confirm", json={"token": fresh, "password": NEW_PASSWORD})
        assert accepted.status_code == 200, accepted.text


def test_reset_request_answers_the_same_whether_the_account_exists(
    api: Api, smtp: SmtpSink, browser: httpx.Client
) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    unknown = f"personne.{uuid.uuid4().hex[:12]}@example.org"
    known_answer = api.http.post("/api/auth/password-reset", json={"email": applicant["email"]})
    unknown_answer = api.http.post("/api/auth/password-reset", json={"email": unknown})
    assert known_answer.status_code == unknown_answer.status_code == 202
    assert known_answer.json() == unknown_answer.json()

    token = csrf_of(browser.get("/mot-de-passe-oublie"))
    known_page = browser.post("/mot-de-passe-oublie", data={"csrf": token, "courriel": applicant["email"]})
    unknown_page = browser.post("/mot-de-passe-oublie", data={"csrf": token, "courriel": unknown})
    assert known_page.status_code == unknown_page.status_code == 200
    assert known_page.text == unknown_page.text

    smtp.wait_for(applicant["email"], timeout=SEAM_DEADLINE, count=2)  # the known account did get its links
    assert smtp.to(unknown) == []


# --- login throttling ------------------------------------------------------------------------


def test_login_attempts_are_throttled_per_account(api: Api) -> None:
    target, bystander = applicant_seed(), applicant_seed()
    api.seed(target, bystander)
    # Failures count per account, whichever identifier is typed.
    identifiers = [target["email"], target["foreign_number"]] * 3
    for identifier in identifiers[:5]:
        failed = api.http.post("/api/auth/login", json={"identifier": identifier, "password": "Mauvais-mot-de-passe-1"})
        assert failed.status_code == 401, failed.text
    for identifier in (target["email"], target["foreign_number"]):
        blocked = api.http.post("/api/auth/login", json={"identifier": identifier, "password": target["password"]})
        assert blocked.status_code == 429, blocked.text
        assert blocked.json()["error"]["code"] == "too_many_attempts"
    api.login(bystander)


def test_agent_logins_are_throttled_too(api: Api) -> None:
    target, bystander = agent_seed(), agent_seed()
    api.seed(target, bystander)
    for _ in range(5):
        failed = api.http.post(
            "/api/agent/login", json={"login": target["login"], "password": "Mauvais-mot-de-passe-1"}
        )
        assert failed.status_code == 401, failed.text
    blocked = api.http.post("/api/agent/login", json={"login": target["login"], "password": target["password"]})
    assert blocked.status_code == 429, blocked.text
    assert blocked.json()["error"]["code"] == "too_many_attempts"
    api.agent_login(bystander)


# --- cookies and CSRF ------------------------------------------------------------------------


def test_session_and_csrf_cookies_are_httponly_and_samesite(api: Api, browser: httpx.Client) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    login = api.http.post("/api/auth/login", json={"identifier": applicant["email"], "password": applicant["password"]})
    session = cookie_attributes(login, "anef_session")
    assert "httponly" in session
    assert session.get("samesite", "").lower() == "lax"

    page = browser.get("/connexion")
    csrf = cookie_attributes(page, "anef_csrf")
    assert "httponly" in csrf
    assert csrf.get("samesite", "").lower() == "strict"
    form_login = browser.post(
        "/connexion",
        data={"csrf": csrf_of(page), "identifiant": applicant["email"], "mot_de_passe": applicant["password"]},
    )
    assert form_login.status_code == 303
    form_session = cookie_attributes(form_login, "anef_session")
    assert "httponly" in form_session
    assert form_session.get("samesite", "").lower() == "lax"


def test_login_form_requires_the_csrf_token_bound_to_the_cookie(
    api: Api, platform: PlatformProcess, browser: httpx.Client
) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    credentials = {"identifiant": applicant["email"], "mot_de_passe": applicant["password"]}
    token = csrf_of(browser.get("/connexion"))
    with httpx.Client(base_url=platform.url, timeout=10) as other_browser:
        foreign_token = csrf_of(other_browser.get("/connexion"))
    with httpx.Client(base_url=platform.url, timeout=10) as cookieless:
        without_cookie = cookieless.post("/connexion", data={"csrf": token, **credentials})
    assert foreign_token != token
    refusals = {
        "no field": browser.post("/connexion", data=credentials),
        "wrong": browser.post("/connexion", data={"csrf": "0" * 64, **credentials}),
        "another browser's": browser.post("/connexion", data={"csrf": foreign_token, **credentials}),
        "without its cookie": without_cookie,
    }
    for case, response in refusals.items():
        assert response.status_code == 403, (case, response.status_code, response.text)
        assert response.json()["error"]["code"] == "csrf", case
        assert "anef_session" not in response.headers.get("set-cookie", ""), case
    accepted = browser.post("/connexion", data={"csrf": token, **credentials})
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"] == "/tableau-de-bord"
    assert "anef_session" in accepted.headers.get("set-cookie", "")


def test_authenticated_form_requires_the_csrf_token(api: Api, browser: httpx.Client) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    auth = api.login(applicant)
    browser.cookies.set("anef_session", auth["Authorization"].removeprefix("Bearer "))
    token = csrf_of(browser.get("/demarches"))
    for case, form in (("no field", {"demarche": "duplicate"}), ("wrong", {"demarche": "duplicate", "csrf": "x" * 64})):
        refused = browser.post("/demarches", data=form)
        assert refused.status_code == 403, (case, refused.status_code, refused.text)
        assert refused.json()["error"]["code"] == "csrf"
    assert api.http.get("/api/me/dossiers", headers=auth).json() == []
    accepted = browser.post("/demarches", data={"demarche": "duplicate", "csrf": token})
    assert accepted.status_code == 303, accepted.text
    created = api.http.get("/api/me/dossiers", headers=auth).json()
    assert [d["procedure"] for d in created] == ["duplicate"]
    assert accepted.headers["location"] == f"/dossiers/{created[0]['id']}"


# --- the admin API ---------------------------------------------------------------------------


def test_admin_api_refuses_a_missing_or_wrong_token(api: Api) -> None:
    applicant = applicant_seed()
    seed_body = json.dumps(applicant) + "\n"
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/_admin/faults", {}),
        ("PUT", "/_admin/faults", {"json": {"faults": [{"id": "outage", "rate": 1}]}}),
        ("GET", "/_admin/ledger", {}),
        ("POST", "/_admin/seed", {"content": seed_body, "headers": {"Content-Type": "application/x-ndjson"}}),
    ]
    bad_headers: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {ADMIN_TOKEN[:-1]}"},
        {"Authorization": f"Basic {ADMIN_TOKEN}"},
        {"Authorization": ADMIN_TOKEN},
    ]
    for method, path, kwargs in calls:
        for headers in bad_headers:
            extra = dict(kwargs)
            merged = {**extra.pop("headers", {}), **headers}
            response = api.http.request(method, path, headers=merged, **extra)
            assert response.status_code == 403, (method, path, headers, response.text)
            assert response.json()["error"]["code"] == "admin_token_required"
    # Nothing happened: no fault is active, the record was not seeded.
    assert api.admin("GET", "/_admin/faults").json()["faults"] == []
    assert (
        api.http.post(
            "/api/auth/login", json={"identifier": applicant["email"], "password": applicant["password"]}
        ).status_code
        == 401
    )
    assert api.admin("GET", "/_admin/ledger").status_code == 200
    assert api.seed(applicant)["applicants"] == 1


# --- uploads ---------------------------------------------------------------------------------


def test_upload_type_is_judged_by_content(api: Api) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    auth = api.login(applicant)
    dossier = api.http.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"}).json()
    text = api.http.post(
        f"/api/me/dossiers/{dossier['id']}/documents",
        headers=auth,
        data={"kind": "passport"},
        files={"file": ("x.pdf", b"Ceci n'est pas un PDF, seulement du texte.\n" * 20, "application/pdf")},
    )
    assert text.status_code == 415, text.text
    assert text.json()["error"]["code"] == "unsupported_type"
    accepted = {
        "image/png": api.upload(auth, dossier["id"], "photo", png_bytes(), filename="photo.png"),
        "image/jpeg": api.upload(auth, dossier["id"], "passport", jpeg_bytes(), filename="passeport.jpg"),
        "application/pdf": api.upload(auth, dossier["id"], "residence_card", pdf_bytes(5_000), filename="titre.png"),
    }
    for content_type, response in accepted.items():
        assert response.status_code == 201, response.text
        assert response.json()["content_type"] == content_type
    documents = api.http.get(f"/api/me/dossiers/{dossier['id']}", headers=auth).json()["documents"]
    assert len(documents) == 3


def test_upload_size_is_limited(app_settings: Settings) -> None:
    settings = app_settings.model_copy(update={"upload_max_bytes": 4_000})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        api = Api(client)
        applicant = applicant_seed()
        api.seed(applicant)
        auth = api.login(applicant)
        dossier = client.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"}).json()
        assert api.upload(auth, dossier["id"], "passport", pdf_bytes(4_000)).status_code == 201
        too_large = api.upload(auth, dossier["id"], "passport", pdf_bytes(4_001))
        assert too_large.status_code == 413, too_large.text
        assert too_large.json()["error"]["code"] == "file_too_large"


def test_filenames_are_never_used_as_paths(
    app_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Relative writes, from the data folder or the working folder, would land inside tmp_path.
    working = tmp_path / "cwd" / "a" / "b"
    working.mkdir(parents=True)
    monkeypatch.chdir(working)
    data_dir = app_settings.data_dir
    with TestClient(create_app(app_settings), base_url="http://127.0.0.1") as client:
        api = Api(client)
        applicant = applicant_seed()
        api.seed(applicant)
        auth = api.login(applicant)
        dossier = client.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"}).json()
        names = {
            "../../etc/passwd.pdf": "passwd.pdf",
            "..\\..\\..\\evil.pdf": "evil.pdf",
            "/tmp/absolu.pdf": "absolu.pdf",
            "../../blobs/../../x.pdf": "x.pdf",
        }
        contents = {}
        for sent, shown in names.items():
            content = pdf_bytes(3_000)
            response = api.upload(auth, dossier["id"], "complement", content, filename=sent)
            assert response.status_code == 201, response.text
            assert response.json()["filename"] == shown
            assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()
            contents[hashlib.sha256(content).hexdigest()] = content

    everything = [p for p in tmp_path.rglob("*") if p.is_file()]
    outside = [p for p in everything if data_dir not in p.parents]
    assert outside == []
    assert not [p for p in everything if p.name in set(names.values())]
    blobs = [p for p in (data_dir / "blobs").rglob("*") if p.is_file()]
    assert sorted(p.name for p in blobs) == sorted(contents)
    for blob in blobs:
        assert re.fullmatch(r"[0-9a-f]{64}", blob.name)
        assert blob.parent.name == blob.name[:2]
        assert blob.parent.parent == data_dir / "blobs"
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name


# --- sessions end ----------------------------------------------------------------------------


def test_logout_invalidates_the_session(api: Api, browser: httpx.Client) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    first, second = api.login(applicant), api.login(applicant)
    assert api.http.get("/api/me", headers=first).status_code == 200
    assert api.http.post("/api/auth/logout", headers=first).status_code == 204
    after = api.http.get("/api/me", headers=first)
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "session_expired"
    assert api.http.get("/api/me", headers=second).status_code == 200  # only that session ended

    # The HTML form ends the cookie session too (the old cookie value no longer opens anything).
    cookie = second["Authorization"].removeprefix("Bearer ")
    browser.cookies.set("anef_session", cookie)
    token = csrf_of(browser.get("/tableau-de-bord"))
    assert browser.post("/deconnexion", data={"csrf": token}).status_code == 303
    assert api.http.get("/api/me", headers=second).status_code == 401


def test_password_reset_invalidates_existing_sessions(api: Api, smtp: SmtpSink) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    sessions = [api.login(applicant), api.login(applicant)]
    for auth in sessions:
        assert api.http.get("/api/me", headers=auth).status_code == 200
    (token,) = reset_tokens_from_mail(api, smtp, applicant["email"], count=1)
    confirmed = api.http.post("/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert confirmed.status_code == 200, confirmed.text
    for auth in sessions:
        assert api.http.get("/api/me", headers=auth).status_code == 401
    assert api.http.get("/api/me", headers=api.login(applicant, password=NEW_PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n" + bytes(300),
        b"\xff\xd8\xff\xe0" + bytes(300),
        b"\x89PNG\r\n\x1a\n" + bytes(300),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17) + b"\x00\x00\x00\x08acTL" + bytes(300),  # animated
        b"GIF89a" + bytes(300),
        b"PK\x03\x04" + bytes(300),
        b"MZ" + bytes(300),
        bytes(range(256)) * 2,
    ],
)
def test_the_accepted_types_matched_first_give_the_full_guess(content: bytes) -> None:
    """The upload check tries the accepted types' matchers first; its answer is the full guess's."""
    import filetype

    from reference_platform.domain.front_office import LIKELY_TYPES

    fast = filetype.match(content, LIKELY_TYPES) or filetype.guess(content)
    full = filetype.guess(content)
    assert (fast.mime if fast else None) == (full.mime if full else None)
