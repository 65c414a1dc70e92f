"""Bad input gets a clear 4xx naming the field (never a 500): malformed or mistyped JSON, fault
sets, invalid state transitions, seed files, the procedure rules; and the CLI refuses a bad
start-up option with one line on stderr and exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import (
    Api,
    agent_seed,
    applicant_seed,
    free_port,
    pdf_bytes,
    wait_until,
)

UNKNOWN_ID = "0" * 32  # well-formed, so the body is what is judged

SEAM_DEADLINE = 5.0


def assert_invalid(response: httpx.Response, field: str, *, status: int = 422, code: str = "invalid_input") -> str:
    """The response is the JSON error naming ``field``; returns its message."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["field"] == field, error
    assert error["message"].strip(), error
    if code == "invalid_input":
        assert error["message"].startswith(f"{field}: "), error
    return str(error["message"])


def assert_refused(response: httpx.Response, code: str, status: int = 409) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"].strip(), error
    return str(error["message"])


def platform_today(api: Api) -> date:
    return date.fromisoformat(api.admin("GET", "/_admin/clock").json()["today"])


# --- malformed JSON, wrong types, missing fields ---------------------------------------------

JSON = {"Content-Type": "application/json"}

# (who is calling, method, path, request keyword arguments, the field the error must name)
REQUESTS: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("anonymous", "POST", "/api/auth/login", {"content": b'{"identifier": "a", ', "headers": JSON}, "body"),
    ("anonymous", "POST", "/api/auth/login", {"content": b"", "headers": JSON}, "body"),
    ("anonymous", "POST", "/api/auth/login", {"json": ["identifier", "password"]}, "body"),
    ("anonymous", "POST", "/api/auth/login", {"json": {"identifier": 5, "password": "x"}}, "body.identifier"),
    ("anonymous", "POST", "/api/auth/login", {"json": {"identifier": "a@example.org"}}, "body.password"),
    ("anonymous", "POST", "/api/auth/login", {"json": {"identifier": "", "password": "x"}}, "body.identifier"),
    (
        "anonymous",
        "POST",
        "/api/auth/login",
        {"json": {"identifier": "a", "password": "x", "remember": True}},
        "body.remember",
    ),
    ("anonymous", "POST", "/api/auth/password-reset", {"json": {"email": "pas-une-adresse"}}, "body.email"),
    ("anonymous", "POST", "/api/auth/password-reset/confirm", {"json": {"password": "x" * 12}}, "body.token"),
    ("applicant", "POST", "/api/me/dossiers", {"json": {}}, "body.procedure"),
    ("applicant", "POST", "/api/me/dossiers", {"json": {"procedure": "naturalisation"}}, "body.procedure"),
    ("applicant", "POST", "/api/me/dossiers", {"json": {"procedure": 3}}, "body.procedure"),
    (
        "applicant",
        "POST",
        "/api/me/dossiers",
        {"json": {"procedure": "address_change", "details": {"postcode": 75011}}},
        "body.details.postcode",
    ),
    # {own}: a draft of the caller's (an upload to another's dossier is refused before its form is read)
    ("applicant", "POST", "/api/me/dossiers/{own}/documents", {"data": {"kind": "passport"}}, "body.file"),
    (
        "applicant",
        "POST",
        "/api/me/dossiers/{own}/documents",
        {"files": {"file": ("p.pdf", b"%PDF-1.4", "application/pdf")}},
        "body.kind",
    ),
    ("applicant", "POST", f"/api/me/requests/{UNKNOWN_ID}/answer", {"json": {"answer": 42}}, "body.answer"),
    ("applicant", "POST", f"/api/me/requests/{UNKNOWN_ID}/answer", {"json": {}}, "body.answer"),
    ("agent", "GET", "/api/agent/queue?limit=beaucoup", {}, "query.limit"),
    ("agent", "GET", "/api/agent/queue?limit=0", {}, "query.limit"),
    ("agent", "GET", "/api/agent/cards?state=perdu", {}, "query.state"),
    (
        "agent",
        "POST",
        f"/api/agent/dossiers/{UNKNOWN_ID}/decision",
        {"json": {"decision": "peut-etre"}},
        "body.decision",
    ),
    ("agent", "POST", f"/api/agent/dossiers/{UNKNOWN_ID}/requests", {"json": {"message": ""}}, "body.message"),
    ("admin", "PUT", "/_admin/clock", {"json": {"today": "demain"}}, "body.today"),
    ("admin", "GET", "/_admin/ledger?since=hier", {}, "query.since"),
]


@pytest.mark.parametrize(
    ("caller", "method", "path", "kwargs", "field"), REQUESTS, ids=[f"{r[2]}-{r[4]}" for r in REQUESTS]
)
def test_malformed_request_names_the_field(
    api: Api, caller: str, method: str, path: str, kwargs: dict[str, Any], field: str
) -> None:
    headers: dict[str, str] = dict(kwargs.pop("headers", {}))
    if caller == "applicant":
        applicant = applicant_seed()
        api.seed(applicant)
        headers.update(api.login(applicant))
        if "{own}" in path:
            draft = api.http.post("/api/me/dossiers", headers=headers, json={"procedure": "renewal"}).json()
            path = path.replace("{own}", draft["id"])
    elif caller == "agent":
        agent = agent_seed()
        api.seed(agent)
        headers.update(api.agent_login(agent))
    if caller == "admin":
        response = api.admin(method, path, headers=headers, **kwargs)
    else:
        response = api.http.request(method, path, headers=headers, **kwargs)
    message = assert_invalid(response, field)
    if field == "body" and "content" in kwargs and kwargs["content"]:
        assert "JSON" in message


def test_domain_input_errors_name_the_field(api: Api) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    auth = api.login(applicant)
    dossier = api.http.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"}).json()
    unknown_kind = api.upload(auth, dossier["id"], "carte_vitale")
    assert "passport" in assert_invalid(unknown_kind, "kind", code="kind")  # lists the kinds it expects
    weak = api.http.post("/api/auth/password-reset/confirm", json={"token": "t" * 43, "password": "court"})
    assert_invalid(weak, "password", code="weak_password")
    stale = api.http.post("/api/auth/password-reset/confirm", json={"token": "t" * 43, "password": "Assez-long-2026"})
    assert_invalid(stale, "token", code="invalid_reset_token")


# --- the fault set (PUT /_admin/faults) ------------------------------------------------------

BAD_FAULTS: list[tuple[str, list[dict[str, Any]], str, str]] = [
    ("unknown id", [{"id": "panne_generale", "rate": 0.5}], "body.faults.0", "unknown fault id 'panne_generale'"),
    ("misspelt id", [{"id": "outagee", "rate": 0.5}], "body.faults.0", "did you mean 'outage'"),
    ("rate above 1", [{"id": "outage", "rate": 1.5}], "body.faults.0.rate", "less than or equal to 1"),
    ("negative rate", [{"id": "outage", "rate": -0.1}], "body.faults.0.rate", "greater than or equal to 0"),
    ("rate not a number", [{"id": "outage", "rate": "souvent"}], "body.faults.0.rate", "valid number"),
    ("rate missing", [{"id": "outage"}], "body.faults.0.rate", "Field required"),
    (
        "second entry",
        [{"id": "outage", "rate": 0}, {"id": "latency", "rate": 2}],
        "body.faults.1.rate",
        "less than or equal to 1",
    ),
    (
        "window ends before it starts",
        [{"id": "outage", "rate": 1, "window": {"start": "2026-03-02T10:00:00Z", "end": "2026-03-01T10:00:00Z"}}],
        "body.faults.0.window",
        "must come after start",
    ),
    (
        "empty window",
        [{"id": "outage", "rate": 1, "window": {"start": "2026-03-02T10:00:00Z", "end": "2026-03-02T10:00:00Z"}}],
        "body.faults.0.window",
        "must come after start",
    ),
    (
        "naive window",
        [{"id": "outage", "rate": 1, "window": {"start": "2026-03-02T10:00:00"}}],
        "body.faults.0.window.start",
        "timezone",
    ),
    ("bad share", [{"id": "outage", "rate": 1, "scope": {"share": 1.5}}], "body.faults.0.scope.share", "less than"),
    (
        "bad params",
        [{"id": "http_error", "rate": 1, "params": {"status": 200}}],
        "body.faults.0.params.status",
        "greater than or equal to 400",
    ),
    (
        "unknown param",
        [{"id": "latency", "rate": 1, "params": {"mean": 5}}],
        "body.faults.0.params.mean",
        "Extra inputs",
    ),
]


@pytest.mark.parametrize(("faults", "field", "fragment"), [c[1:] for c in BAD_FAULTS], ids=[c[0] for c in BAD_FAULTS])
def test_bad_fault_set_is_refused_and_changes_nothing(
    api: Api, faults: list[dict[str, Any]], field: str, fragment: str
) -> None:
    active = [{"id": "latency", "rate": 0.0, "params": {"mean_ms": 5.0, "jitter_ms": 0.0}}]
    api.set_faults(*active)
    refused = api.admin("PUT", "/_admin/faults", json={"faults": faults})
    assert fragment in assert_invalid(refused, field)
    assert api.admin("GET", "/_admin/faults").json()["faults"] == active


# --- invalid state transitions ---------------------------------------------------------------


def test_applicant_transitions_out_of_order_are_refused(api: Api) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    auth = api.login(applicant)
    draft = api.http.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"}).json()
    assert_refused(api.http.get(f"/api/me/dossiers/{draft['id']}/receipt", headers=auth), "not_submitted")
    missing = assert_refused(api.http.post(f"/api/me/dossiers/{draft['id']}/submit", headers=auth), "missing_documents")
    assert "Passeport" in missing
    assert api.http.delete(f"/api/me/dossiers/{draft['id']}", headers=auth).status_code == 200
    assert_refused(api.upload(auth, draft["id"], "passport"), "dossier_closed")
    assert_refused(api.http.delete(f"/api/me/dossiers/{draft['id']}", headers=auth), "invalid_transition")

    submitted = api.submitted_renewal(auth)
    again = api.http.post(f"/api/me/dossiers/{submitted['id']}/submit", headers=auth)
    assert "Déposé" in assert_refused(again, "invalid_transition")
    assert_refused(api.http.delete(f"/api/me/dossiers/{submitted['id']}", headers=auth), "invalid_transition")
    after = api.http.get(f"/api/me/dossiers/{submitted['id']}", headers=auth).json()
    assert after["state"] == "submitted"
    assert after["receipt_number"] == submitted["receipt_number"]  # the second submit changed nothing


def test_agent_transitions_out_of_order_are_refused(api: Api) -> None:
    applicant, agent = applicant_seed(), agent_seed()
    api.seed(applicant, agent)
    auth, agent_auth = api.login(applicant), api.agent_login(agent)
    dossier_id = api.submitted_renewal(auth)["id"]
    wait_until(
        lambda: api.http.get(f"/api/agent/dossiers/{dossier_id}", headers=agent_auth).status_code == 200,
        SEAM_DEADLINE,
    )
    base = f"/api/agent/dossiers/{dossier_id}"
    accept = {"decision": "accepted"}
    assert_refused(api.http.post(f"{base}/decision", headers=agent_auth, json=accept), "invalid_transition")
    assert_refused(api.http.post(f"{base}/card/produce", headers=agent_auth), "invalid_transition")
    assert_refused(api.http.post(f"{base}/card/available", headers=agent_auth), "no_card")
    request = {"message": "Pièce manquante."}
    assert_refused(api.http.post(f"{base}/requests", headers=agent_auth, json=request), "invalid_transition")
    assert api.http.get(base, headers=agent_auth).json()["state"] == "submitted"

    assert api.http.post(f"{base}/review", headers=agent_auth).status_code == 200
    assert_refused(api.http.post(f"{base}/review", headers=agent_auth), "invalid_transition")
    assert api.http.post(f"{base}/decision", headers=agent_auth, json={"decision": "refused"}).status_code == 200
    assert_refused(api.http.post(f"{base}/decision", headers=agent_auth, json=accept), "invalid_transition")
    assert_refused(api.http.post(f"{base}/card/produce", headers=agent_auth), "invalid_transition")
    final = api.http.get(base, headers=agent_auth).json()
    assert final["state"] == "refused"
    assert final["decision"] == "refused"
    assert final["card"] is None


def test_answering_a_request_twice_is_refused(api: Api) -> None:
    applicant, agent = applicant_seed(), agent_seed()
    api.seed(applicant, agent)
    auth, agent_auth = api.login(applicant), api.agent_login(agent)
    dossier_id = api.submitted_renewal(auth)["id"]
    wait_until(
        lambda: api.http.get(f"/api/agent/dossiers/{dossier_id}", headers=agent_auth).status_code == 200,
        SEAM_DEADLINE,
    )
    assert api.http.post(f"/api/agent/dossiers/{dossier_id}/review", headers=agent_auth).status_code == 200
    created = api.http.post(
        f"/api/agent/dossiers/{dossier_id}/requests", headers=agent_auth, json={"message": "Un justificatif."}
    )
    request_id = created.json()["id"]
    wait_until(
        lambda: any(r["id"] == request_id for r in api.http.get("/api/me/requests", headers=auth).json()),
        SEAM_DEADLINE,
    )
    answer = f"/api/me/requests/{request_id}/answer"
    assert_invalid(api.http.post(answer, headers=auth, json={"answer": "   "}), "answer", code="answer")
    assert api.http.post(answer, headers=auth, json={"answer": "Le voici."}).status_code == 200
    assert_refused(api.http.post(answer, headers=auth, json={"answer": "Encore."}), "already_answered")


def test_handing_over_a_card_twice_is_refused(api: Api) -> None:
    available, already, agent = applicant_seed(card_state="available"), applicant_seed(), agent_seed()
    api.seed(available, already, agent)
    agent_auth = api.agent_login(agent)
    card_id = api.http.get("/api/me", headers=api.login(available)).json()["card"]["id"]
    handed_card = api.http.get("/api/me", headers=api.login(already)).json()["card"]["id"]
    assert api.http.post(f"/api/agent/cards/{card_id}/handover", headers=agent_auth).status_code == 200
    second = api.http.post(f"/api/agent/cards/{card_id}/handover", headers=agent_auth)
    assert "handed_over" in assert_refused(second, "card_not_available")
    assert_refused(api.http.post(f"/api/agent/cards/{handed_card}/handover", headers=agent_auth), "card_not_available")


# --- seeding (NDJSON) ------------------------------------------------------------------------


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record)


BAD_SEEDS: list[tuple[str, str, int, str]] = [
    ("not JSON", f"{_line(agent_seed())}\n{_line(agent_seed())}\n{{pas du json\n", 3, "not JSON"),
    ("blank lines count", f"{_line(agent_seed())}\n\n{{pas du json\n", 3, "not JSON"),
    ("last line without newline", f'{_line(agent_seed())}\n{{"type": "agent"}}', 2, "agent.login"),
    ("bad postcode", f"{_line(agent_seed())}\n{_line(applicant_seed(postcode='ABCDE'))}\n", 2, "applicant.postcode"),
    ("missing field", _line({k: v for k, v in agent_seed().items() if k != "login"}) + "\n", 1, "agent.login"),
    ("unknown type", _line({"type": "prefect", "login": "x"}) + "\n", 1, "prefect"),
    (
        "card ends before it starts",
        _line(
            applicant_seed(
                card={
                    "kind": "carte_temporaire",
                    "motif": "salarie",
                    "valid_from": "2026-01-01",
                    "valid_until": "2025-01-01",
                    "state": "handed_over",
                }
            )
        )
        + "\n",
        1,
        "valid_until must come after valid_from",
    ),
]


@pytest.mark.parametrize(("body", "line", "fragment"), [c[1:] for c in BAD_SEEDS], ids=[c[0] for c in BAD_SEEDS])
def test_seed_with_a_bad_line_names_the_line(api: Api, body: str, line: int, fragment: str) -> None:
    response = api.admin("POST", "/_admin/seed", content=body, headers={"Content-Type": "application/x-ndjson"})
    message = assert_invalid(response, "body", code="body")
    assert message.startswith(f"line {line}: "), message
    assert fragment in message, message


# --- procedure rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "allowed"), [(200, False), (121, False), (120, True), (60, True), (59, False), (30, False)]
)
def test_renewal_only_inside_its_window(api: Api, days: int, allowed: bool) -> None:
    today = platform_today(api)
    applicant = applicant_seed(expires_in_days=days, today=today)
    api.seed(applicant)
    auth = api.login(applicant)
    created = api.http.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"})
    offer = {o["id"]: o for o in api.http.get("/api/me/procedures", headers=auth).json()}["renewal"]
    if allowed:
        assert created.status_code == 201, created.text
        return
    message = assert_refused(created, "outside_renewal_window")
    assert "R.431-5" in message
    expiry = today + timedelta(days=days)
    opens, closes = expiry - timedelta(days=120), expiry - timedelta(days=60)
    assert f"du {opens:%d/%m/%Y} au {closes:%d/%m/%Y}" in message, message
    assert not offer["available"]
    assert offer["reason"] == message


@pytest.mark.parametrize("card_state", ["available", "produced"])
def test_renewal_needs_the_previous_card_handed_over(api: Api, card_state: str) -> None:
    applicant = applicant_seed(card_state=card_state)
    api.seed(applicant)
    created = api.http.post("/api/me/dossiers", headers=api.login(applicant), json={"procedure": "renewal"})
    assert "remis" in assert_refused(created, "card_not_handed_over")


def test_renewal_and_duplicate_need_a_card(api: Api) -> None:
    applicant = applicant_seed(card=None)
    api.seed(applicant)
    auth = api.login(applicant)
    for procedure in ("renewal", "duplicate"):
        assert_refused(api.http.post("/api/me/dossiers", headers=auth, json={"procedure": procedure}), "no_card")


def test_second_procedure_while_one_is_in_progress(api: Api) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    auth = api.login(applicant)
    api.submitted_renewal(auth)
    details = {"address": "3 avenue Jean Jaurès", "postcode": "75019", "city": "Paris"}
    for body in ({"procedure": "address_change", "details": details}, {"procedure": "duplicate"}):
        refused = api.http.post("/api/me/dossiers", headers=auth, json=body)
        assert "déjà en cours" in assert_refused(refused, "request_in_progress")
    assert len(api.http.get("/api/me/dossiers", headers=auth).json()) == 1


ADDRESS = {"address": "3 avenue Jean Jaurès", "postcode": "75019", "city": "Paris"}


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({**ADDRESS, "postcode": "7501"}, "details.postcode"),
        ({**ADDRESS, "postcode": "750190"}, "details.postcode"),
        ({**ADDRESS, "postcode": "75O19"}, "details.postcode"),
        ({k: v for k, v in ADDRESS.items() if k != "postcode"}, "details.postcode"),
        ({**ADDRESS, "address": "  "}, "details.address"),
        ({**ADDRESS, "city": ""}, "details.city"),
    ],
    ids=["four digits", "six digits", "letter O", "missing postcode", "blank address", "empty city"],
)
def test_address_change_with_bad_details(api: Api, details: dict[str, str], field: str) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    auth = api.login(applicant)
    refused = api.http.post("/api/me/dossiers", headers=auth, json={"procedure": "address_change", "details": details})
    assert field in assert_invalid(refused, field, code=field)
    assert api.http.get("/api/me/dossiers", headers=auth).json() == []


def test_details_on_a_procedure_that_takes_none(api: Api) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    refused = api.http.post(
        "/api/me/dossiers", headers=api.login(applicant), json={"procedure": "renewal", "details": ADDRESS}
    )
    assert_invalid(refused, "details", code="details")


def test_empty_upload_names_the_file(api: Api) -> None:
    applicant = applicant_seed()
    api.seed(applicant)
    auth = api.login(applicant)
    dossier = api.http.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"}).json()
    assert_invalid(api.upload(auth, dossier["id"], "passport", b""), "file", code="file")
    assert api.upload(auth, dossier["id"], "passport", pdf_bytes(1_000)).status_code == 201


# --- the command line ------------------------------------------------------------------------


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


CLI_CASES = {
    "missing faults file": (lambda d: ["--faults", "/nonexistent.yaml"], ["/nonexistent.yaml", "cannot read"]),
    "invalid YAML": (
        lambda d: ["--faults", str(_write(d, "casse.yaml", "faults:\n  - id: outage\n    rate: [0.5\n"))],
        ["casse.yaml", "not valid YAML"],
    ),
    "unknown fault id": (
        lambda d: ["--faults", str(_write(d, "inconnu.yaml", "faults:\n  - id: outagee\n    rate: 0.5\n"))],
        ["inconnu.yaml", "faults.0", "unknown fault id 'outagee'"],
    ),
    "unknown database": (lambda d: ["--database-url", "nosuchdb://x"], ["--database-url", "nosuchdb://"]),
    "unreachable database": (
        lambda d: ["--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/x"],
        ["--database-url", "cannot open the database"],
    ),
    "bad smtp": (lambda d: ["--smtp", "nulle-part"], ["--smtp", "HOST:PORT"]),
    "port out of range": (lambda d: ["--port", "70000"], ["--port", "65535"]),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_refuses_bad_startup_options_with_one_line(tmp_path: Path, case: str) -> None:
    make_args, fragments = CLI_CASES[case]
    command = [
        sys.executable,
        "-m",
        "anef_harness",
        "platform",
        "serve",
        "--port",
        str(free_port()),
        "--data-dir",
        str(tmp_path / "data"),
        *make_args(tmp_path),
    ]
    env = {k: v for k, v in os.environ.items() if k != "ANEF_ADMIN_TOKEN"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert lines[0].startswith("anef-harness: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
