"""The four security faults (docs/platform.md, "Faults" and "Security").

The platform is otherwise secure (tests/reference_platform/test_security.py); each fault breaks
exactly one of its guarantees. For each: at rate 1 the weakness shows to an applicant and the
ledger names the fault, the applicant, the object and the route, only for the eligible events
(another's dossier, a used link, an answer about an account, a disallowed file); at rate 0
nothing happens. Observed over real HTTP against the platform process, except the size check,
which uses the in-process app with a small upload limit.
"""

from __future__ import annotations

import re
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from reference_platform.app import create_app
from reference_platform.settings import Settings
from tests.reference_platform.faults_support import app_settings, ledger_of, login  # noqa: F401 - fixture
from tests.support import Api, PlatformProcess, SmtpSink, applicant_seed, body_of, pdf_bytes, wait_until

RATES = [pytest.param(1.0, id="rate-1"), pytest.param(0.0, id="rate-0")]
NEW_PASSWORD = "Nouveau-mot-de-passe-42"
AGAIN_PASSWORD = "Encore-un-autre-mot-99"
WRONG_PASSWORD = "Pas-le-bon-mot-de-passe-7"
TOKEN_IN_MAIL = re.compile(r"jeton=([\w-]+)")
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
EXECUTABLE = b"MZ" + bytes(62) + b"PE\x00\x00" + bytes(200)  # a Windows executable's headers
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>\n" * 10
RESET = "/api/auth/password-reset"
CONFIRM = "/api/auth/password-reset/confirm"


def unknown_address() -> str:
    return f"personne.{uuid.uuid4().hex[:12]}@example.org"


def draft(api: Api, auth: dict[str, str]) -> str:
    created = api.http.post("/api/me/dossiers", headers=auth, json={"procedure": "duplicate"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def about(api: Api, identifier: str) -> list[dict[str, Any]]:
    """The firings of ``user_enumeration`` on answers about this identifier."""
    return [e for e in api.ledger("user_enumeration") if e["object"] == identifier]


def reset_token(api: Api, smtp: SmtpSink, email: str) -> str:
    assert api.http.post(RESET, json={"email": email}).status_code == 202
    (message,) = smtp.wait_for(email)
    found = TOKEN_IN_MAIL.search(body_of(message))
    assert found, body_of(message)
    return found.group(1)


# --- idor_leak -------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_idor_leak(api: Api, platform: PlatformProcess, rate: float) -> None:
    owner, intruder = applicant_seed(), applicant_seed(given_name="Intrus")
    api.seed(owner, intruder)
    owner_auth, owner_id = login(api, owner)
    intruder_auth, intruder_id = login(api, intruder)
    dossier = api.submitted_renewal(owner_auth)
    api.set_faults({"id": "idor_leak", "rate": rate})

    assert api.http.get(f"/api/me/dossiers/{dossier['id']}", headers=owner_auth).status_code == 200
    read = api.http.get(f"/api/me/dossiers/{dossier['id']}", headers=intruder_auth)
    receipt = api.http.get(f"/api/me/dossiers/{dossier['id']}/receipt", headers=intruder_auth)
    with httpx.Client(base_url=platform.url, timeout=10) as browser:
        browser.cookies.set("anef_session", intruder_auth["Authorization"].removeprefix("Bearer "))
        page = browser.get(f"/dossiers/{dossier['id']}")
    # Reads only: writing to another's dossier stays refused whatever the fault.
    upload = api.upload(intruder_auth, dossier["id"], "complement")
    assert upload.status_code == 404, upload.text
    assert ledger_of(api, "idor_leak", owner_id) == []  # reading one's own dossier is no event
    if rate:
        assert read.status_code == 200, read.text
        assert read.json()["id"] == dossier["id"]
        assert [d["sha256"] for d in read.json()["documents"]] == [d["sha256"] for d in dossier["documents"]]
        assert receipt.status_code == 200, receipt.text
        assert receipt.json()["receipt_number"] == dossier["receipt_number"]
        assert page.status_code == 200
        assert dossier["id"] in page.text
        assert ledger_of(api, "idor_leak", intruder_id) == [
            ("/api/me/dossiers/{dossier_id}", dossier["id"]),
            ("/api/me/dossiers/{dossier_id}/receipt", dossier["id"]),
            ("/dossiers/{dossier_id}", dossier["id"]),
        ]
    else:
        for response in (read, receipt):
            assert response.status_code == 404, response.text
            assert response.json()["error"]["code"] == "dossier_not_found"
        assert page.status_code == 404
        assert ledger_of(api, "idor_leak", intruder_id) == []
    missing = api.http.get(f"/api/me/dossiers/{uuid.uuid4().hex}", headers=intruder_auth)
    assert missing.status_code == 404  # a dossier that exists nowhere is no event either
    assert len([e for e in api.ledger("idor_leak") if e["applicant"] == intruder_id]) == (3 if rate else 0)


# --- reset_token_reusable --------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_reset_token_reusable(api: Api, smtp: SmtpSink, rate: float) -> None:
    seed = applicant_seed()
    api.seed(seed)
    _, applicant = login(api, seed)
    api.set_faults({"id": "reset_token_reusable", "rate": rate})
    token = reset_token(api, smtp, seed["email"])

    first = api.http.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
    assert first.status_code == 200, first.text
    assert ledger_of(api, "reset_token_reusable", applicant) == []  # a first use is no event
    again = api.http.post(CONFIRM, json={"token": token, "password": AGAIN_PASSWORD})
    forged = api.http.post(CONFIRM, json={"token": "x" * 43, "password": AGAIN_PASSWORD})
    assert forged.status_code == 422  # an unknown token is never accepted
    if rate:
        assert again.status_code == 200, again.text
        api.login(seed, password=AGAIN_PASSWORD)
        assert ledger_of(api, "reset_token_reusable", applicant) == [(CONFIRM, "reset")]
    else:
        assert again.status_code == 422, again.text
        assert again.json()["error"]["code"] == "invalid_reset_token"
        api.login(seed, password=NEW_PASSWORD)
        assert ledger_of(api, "reset_token_reusable", applicant) == []


# --- user_enumeration ------------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_user_enumeration_by_content(api: Api, platform: PlatformProcess, rate: float) -> None:
    seed = applicant_seed()
    api.seed(seed)
    _, applicant = login(api, seed)
    unknown = unknown_address()
    api.set_faults({"id": "user_enumeration", "rate": rate, "params": {"how": "content"}})

    known_reset = api.http.post(RESET, json={"email": seed["email"]})
    unknown_reset = api.http.post(RESET, json={"email": unknown})
    known_login = api.http.post("/api/auth/login", json={"identifier": seed["email"], "password": WRONG_PASSWORD})
    unknown_login = api.http.post("/api/auth/login", json={"identifier": unknown, "password": WRONG_PASSWORD})
    with httpx.Client(base_url=platform.url, timeout=10) as browser:
        form = browser.get("/mot-de-passe-oublie")
        csrf = CSRF_FIELD.search(form.text)
        assert csrf, form.text
        page = browser.post("/mot-de-passe-oublie", data={"csrf": csrf.group(1), "courriel": unknown})
    assert known_reset.status_code == 202
    assert known_login.status_code == 401
    assert known_login.json()["error"]["code"] == "bad_credentials"
    if rate:
        assert unknown_reset.status_code == 404, unknown_reset.text
        assert unknown_reset.json()["error"]["code"] == "unknown_account"
        assert unknown_login.status_code == 401
        assert unknown_login.json()["error"] == {
            "code": "unknown_account",
            "message": "Aucun compte ne correspond à cet identifiant.",
        }
        assert page.status_code == 404
        assert "Aucun compte ne correspond à cette adresse." in page.text
        # The answers about the existing account are no event: only an unknown identifier is.
        firings = [(e["applicant"], e["route"], e["object"]) for e in about(api, unknown)]
        assert firings == [
            (None, RESET, unknown),
            (None, "/api/auth/login", unknown),
            (None, "/mot-de-passe-oublie", unknown),
        ]
    else:
        assert (unknown_reset.status_code, unknown_reset.json()) == (202, known_reset.json())
        assert (unknown_login.status_code, unknown_login.json()) == (401, known_login.json())
        assert page.status_code == 200
        assert about(api, unknown) == []
    assert ledger_of(api, "user_enumeration", applicant) == []


@pytest.mark.parametrize("rate", RATES)
def test_user_enumeration_by_timing(api: Api, rate: float) -> None:
    seed = applicant_seed()
    api.seed(seed)
    _, applicant = login(api, seed)
    unknown = unknown_address()
    delay = 0.5
    api.set_faults({"id": "user_enumeration", "rate": rate, "params": {"how": "timing", "delay_ms": delay * 1000}})

    def timed(email: str) -> float:
        started = time.perf_counter()
        answer = api.http.post(RESET, json={"email": email})
        assert answer.status_code == 202, answer.text  # same content either way
        return time.perf_counter() - started

    known = [timed(seed["email"]) for _ in range(3)]
    nobody = [timed(unknown) for _ in range(3)]
    failed = time.perf_counter()
    wrong = api.http.post("/api/auth/login", json={"identifier": seed["email"], "password": WRONG_PASSWORD})
    failed = time.perf_counter() - failed
    assert wrong.json()["error"]["code"] == "bad_credentials"
    if rate:
        assert min(known) >= delay, known
        assert failed >= delay, failed
        assert statistics.median(nobody) < delay, nobody
        assert ledger_of(api, "user_enumeration", applicant) == [(RESET, seed["email"])] * 3 + [
            ("/api/auth/login", seed["email"])
        ]
    else:
        assert ledger_of(api, "user_enumeration", applicant) == []
    assert about(api, unknown) == []  # an unknown address is no event of the timing mode


def test_late_answers_hold_no_worker_thread(api: Api) -> None:
    """The timing delay is waited at the edge: with every worker thread's worth of late answers in
    flight (two on SQLite), an answer about an unknown address still comes at once."""
    seed = applicant_seed()
    api.seed(seed)
    delay = 2.0
    api.set_faults({"id": "user_enumeration", "rate": 1.0, "params": {"how": "timing", "delay_ms": delay * 1000}})
    with ThreadPoolExecutor(4) as pool:
        late = [pool.submit(api.http.post, RESET, json={"email": seed["email"]}) for _ in range(4)]
        wait_until(lambda: len(about(api, seed["email"])) == 4, timeout=delay)  # all four held
        started = time.perf_counter()
        assert api.http.post(RESET, json={"email": unknown_address()}).status_code == 202
        quick = time.perf_counter() - started
        assert all(f.result().status_code == 202 for f in late)
    assert quick < delay / 2, quick


# --- upload_unchecked ------------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_upload_unchecked_type(api: Api, rate: float) -> None:
    seed = applicant_seed()
    api.seed(seed)
    auth, applicant = login(api, seed)
    dossier_id = draft(api, auth)
    api.set_faults({"id": "upload_unchecked", "rate": rate})

    assert api.upload(auth, dossier_id, "passport", pdf_bytes(3_000)).status_code == 201  # allowed: no event
    executable = api.upload(auth, dossier_id, "passport", EXECUTABLE, filename="passeport.pdf")
    page = api.upload(auth, dossier_id, "photo", HTML, filename="photo.jpg")
    route = "/api/me/dossiers/{dossier_id}/documents"
    if rate:
        assert executable.status_code == 201, executable.text
        assert executable.json()["content_type"] == "application/x-msdownload"
        assert page.status_code == 201, page.text
        assert page.json()["content_type"] == "application/octet-stream"
        documents = api.http.get(f"/api/me/dossiers/{dossier_id}", headers=auth).json()["documents"]
        assert len(documents) == 3
        assert ledger_of(api, "upload_unchecked", applicant) == [(route, dossier_id)] * 2
    else:
        for response in (executable, page):
            assert response.status_code == 415, response.text
            assert response.json()["error"]["code"] == "unsupported_type"
        assert ledger_of(api, "upload_unchecked", applicant) == []


@pytest.mark.parametrize("rate", RATES)
def test_upload_unchecked_size(app_settings: Settings, rate: float) -> None:  # noqa: F811 - fixture
    settings = app_settings.model_copy(update={"upload_max_bytes": 4_000})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        api = Api(client)
        seed = applicant_seed()
        api.seed(seed)
        auth, applicant = login(api, seed)
        dossier_id = draft(api, auth)
        # Only the size check is skipped: a disallowed type is still refused, and is no event.
        api.set_faults({"id": "upload_unchecked", "rate": rate, "params": {"checks": ["size"]}})

        assert api.upload(auth, dossier_id, "passport", pdf_bytes(4_000)).status_code == 201
        assert api.upload(auth, dossier_id, "passport", EXECUTABLE).status_code == 415
        too_large = api.upload(auth, dossier_id, "passport", pdf_bytes(4_001))
        if rate:
            assert too_large.status_code == 201, too_large.text
            assert too_large.json()["content_type"] == "application/pdf"
            route = "/api/me/dossiers/{dossier_id}/documents"
            assert ledger_of(api, "upload_unchecked", applicant) == [(route, dossier_id)]
        else:
            assert too_large.status_code == 413, too_large.text
            assert too_large.json()["error"]["code"] == "file_too_large"
            assert ledger_of(api, "upload_unchecked", applicant) == []
