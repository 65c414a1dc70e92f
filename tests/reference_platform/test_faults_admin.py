"""The fault set as data: validation of ``PUT /_admin/faults``, scope (sticky share, routes),
time windows, and the shipped ``anef-2024`` profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contracts.fault_set import load_profile
from contracts.faults import CATALOGUE, DOCUMENTED, SECURITY
from reference_platform.app import create_app
from reference_platform.errors import ConfigError
from reference_platform.faults.injector import sticky_draw
from reference_platform.settings import Settings
from tests.support import PASSWORD, Api, agent_seed, applicant_seed, wait_until

DOCUMENTED_IDS = {
    "title_not_marked_delivered",
    "phantom_pending_request",
    "reset_email_lost",
    "agent_request_hidden",
    "document_lost",
    "procedure_not_forwarded",
    "procedure_not_selectable",
}
SECURITY_IDS = {"idor_leak", "reset_token_reusable", "user_enumeration", "upload_unchecked"}
GENERIC_IDS = {
    "latency",
    "http_error",
    "outage",
    "timeout",
    "connection_reset",
    "email_delay",
    "session_drop",
    "sync_delay",
}


def login(api: Api, seed: dict[str, Any]) -> tuple[dict[str, str], str]:
    response = api.http.post("/api/auth/login", json={"identifier": seed["email"], "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}, response.json()["applicant_id"]


def moment(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "field", "says"),
    [
        pytest.param(
            {"id": "documnet_lost", "rate": 1}, "body.faults.0", "did you mean 'document_lost'?", id="near-miss-id"
        ),
        pytest.param(
            {"id": "sesion_drop", "rate": 1}, "body.faults.0", "did you mean 'session_drop'?", id="near-miss-generic"
        ),
        pytest.param(
            {"id": "rate_limit", "rate": 1}, "body.faults.0", "unknown fault id 'rate_limit'", id="unknown-id"
        ),
        pytest.param(
            {"id": "document_lost", "rate": 1.5}, "body.faults.0.rate", "less than or equal to 1", id="rate-above-1"
        ),
        pytest.param(
            {"id": "document_lost", "rate": -0.1}, "body.faults.0.rate", "greater than or equal to 0", id="rate-below-0"
        ),
        pytest.param(
            {
                "id": "outage",
                "rate": 1,
                "window": {"start": "2025-01-02T00:00:00+00:00", "end": "2025-01-01T00:00:00+00:00"},
            },
            "body.faults.0.window",
            "must come after start",
            id="window-reversed",
        ),
        pytest.param(
            {"id": "outage", "rate": 1, "window": {"start": "2025-01-02T00:00:00"}},
            "body.faults.0.window.start",
            "timezone",
            id="window-naive",
        ),
        pytest.param(
            {"id": "latency", "rate": 1, "params": {"mean": 5}},
            "body.faults.0.params.mean",
            "Extra inputs",
            id="unknown-param",
        ),
        pytest.param(
            {"id": "document_lost", "rate": 1, "params": {"late_seconds": 5}},
            "body.faults.0.params.late_seconds",
            "Extra inputs",
            id="param-of-another-fault",
        ),
        pytest.param(
            {"id": "http_error", "rate": 1, "params": {"status": 200}},
            "body.faults.0.params.status",
            "greater than or equal to 400",
            id="param-out-of-range",
        ),
        pytest.param(
            {"id": "outage", "rate": 1, "scope": {"share": 0}},
            "body.faults.0.scope.share",
            "greater than 0",
            id="share-zero",
        ),
        pytest.param({"id": "outage", "rate": 1, "rat": 1}, "body.faults.0.rat", "Extra inputs", id="unknown-key"),
    ],
)
def test_invalid_fault_set_is_refused_and_changes_nothing(
    api: Api, spec: dict[str, Any], field: str, says: str
) -> None:
    api.set_faults({"id": "latency", "rate": 0.5, "params": {"mean_ms": 1}})
    before = api.admin("GET", "/_admin/faults").json()["faults"]
    response = api.admin("PUT", "/_admin/faults", json={"faults": [spec]})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["field"] == field
    assert error["message"].startswith(f"{field}: ")
    assert says in error["message"], error["message"]
    assert api.admin("GET", "/_admin/faults").json()["faults"] == before


def test_catalogue_is_the_shared_contract(api: Api) -> None:
    every = DOCUMENTED_IDS | SECURITY_IDS | GENERIC_IDS
    assert set(api.admin("GET", "/_admin/faults").json()["catalogue"]) == every
    assert set(DOCUMENTED) == DOCUMENTED_IDS
    assert set(SECURITY) == SECURITY_IDS
    assert set(CATALOGUE) == every


def test_faults_api_needs_the_admin_token(api: Api) -> None:
    refused = api.http.put("/_admin/faults", json={"faults": [{"id": "outage", "rate": 1}]})
    assert refused.status_code == 403
    assert api.admin("GET", "/_admin/faults").json()["faults"] == []


# --- scope -----------------------------------------------------------------------------------


def _procedure_missing(api: Api, auth: dict[str, str]) -> bool:
    response = api.http.get("/api/me/procedures", headers=auth)
    assert response.status_code == 200, response.text
    return "renewal" not in {offer["id"] for offer in response.json()}


def _service_down(api: Api, auth: dict[str, str]) -> bool:
    status = api.http.get("/api/me", headers=auth).status_code
    assert status in (200, 503)
    return status == 503


@pytest.mark.parametrize(
    ("fault", "affected"),
    [
        pytest.param("procedure_not_selectable", _procedure_missing, id="procedure_not_selectable"),
        pytest.param("outage", _service_down, id="outage"),
    ],
)
def test_sticky_share_hits_the_same_applicants_every_time(api: Api, fault: str, affected: Any) -> None:
    seeds = [applicant_seed() for _ in range(30)]
    api.seed(*seeds)
    people = [login(api, seed) for seed in seeds]
    api.set_faults({"id": fault, "rate": 1.0, "scope": {"share": 0.5}})

    seen = {applicant: [affected(api, auth) for _ in range(3)] for auth, applicant in people}
    assert all(len(set(outcomes)) == 1 for outcomes in seen.values()), seen  # always or never
    hit = {applicant for applicant, outcomes in seen.items() if outcomes[0]}
    assert hit == {applicant for _, applicant in people if sticky_draw(fault, applicant) < 0.5}
    assert 0 < len(hit) < len(people)
    logged = [e["applicant"] for e in api.ledger(fault) if e["applicant"] in seen]
    assert set(logged) == hit
    assert len(logged) == 3 * len(hit)  # every request of an affected applicant, none of the others


def test_routes_limit_a_generic_fault(api: Api) -> None:
    seed, agent = applicant_seed(), agent_seed()
    api.seed(seed, agent)
    auth, applicant = login(api, seed)
    agent_auth = api.agent_login(agent)
    api.set_faults({"id": "outage", "rate": 1.0, "scope": {"routes": ["/api/me/procedures", "/api/agent/*"]}})

    assert api.http.get("/api/me/procedures", headers=auth).status_code == 503
    assert api.http.get("/api/agent/queue", headers=agent_auth).status_code == 503
    assert api.http.get("/api/me", headers=auth).status_code == 200
    assert api.http.get("/api/me/dossiers", headers=auth).status_code == 200
    assert [e["route"] for e in api.ledger("outage") if e["applicant"] == applicant] == ["/api/me/procedures"]


def test_routes_limit_a_documented_fault(api: Api) -> None:
    seed = applicant_seed()
    api.seed(seed)
    auth, applicant = login(api, seed)
    api.set_faults({"id": "procedure_not_selectable", "rate": 1.0, "scope": {"routes": ["/api/me/dossiers"]}})

    assert not _procedure_missing(api, auth)  # the list is out of scope: renewal is offered
    refused = api.http.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "procedure_unavailable"
    assert [e["route"] for e in api.ledger("procedure_not_selectable") if e["applicant"] == applicant] == [
        "/api/me/dossiers"
    ]


@pytest.mark.parametrize(
    ("start", "end", "fires"),
    [
        pytest.param(-2, -1, False, id="past"),
        pytest.param(1, 2, False, id="future"),
        pytest.param(-1, 1, True, id="now"),
        pytest.param(None, -1, False, id="ended"),
        pytest.param(-1, None, True, id="open-ended"),
    ],
)
def test_window(api: Api, start: float | None, end: float | None, fires: bool) -> None:
    seed = applicant_seed()
    api.seed(seed)
    auth, applicant = login(api, seed)
    window = {key: moment(hours) for key, hours in (("start", start), ("end", end)) if hours is not None}
    api.set_faults({"id": "outage", "rate": 1.0, "window": window})
    assert api.http.get("/api/me", headers=auth).status_code == (503 if fires else 200)
    assert len([e for e in api.ledger("outage") if e["applicant"] == applicant]) == (1 if fires else 0)


def test_window_opens_on_time(api: Api) -> None:
    seed = applicant_seed()
    api.seed(seed)
    auth, _ = login(api, seed)
    opens = datetime.now(UTC) + timedelta(seconds=1)
    api.set_faults({"id": "outage", "rate": 1.0, "window": {"start": opens.isoformat()}})
    assert api.http.get("/api/me", headers=auth).status_code == 200
    wait_until(lambda: api.http.get("/api/me", headers=auth).status_code == 503, timeout=5)
    assert datetime.now(UTC) >= opens


# --- the shipped profile ---------------------------------------------------------------------


def test_anef_2024_profile_turns_on_exactly_the_documented_defects() -> None:
    profile = load_profile("anef-2024")
    ids = [spec.id for spec in profile.faults]
    assert sorted(ids) == sorted(DOCUMENTED_IDS)  # each once, no generic fault
    # "At realistic low rates": on, and hitting at most a tenth of eligible events or applicants.
    effective = {spec.id: spec.rate * ((spec.scope.share or 1) if spec.scope else 1) for spec in profile.faults}
    assert all(0 < rate <= 0.1 for rate in effective.values()), effective


def test_security_profile_turns_on_exactly_the_security_faults() -> None:
    profile = load_profile("security")
    assert sorted(spec.id for spec in profile.faults) == sorted(SECURITY_IDS)


def test_platform_started_with_the_profile_runs_it(app_settings: Settings) -> None:
    settings = app_settings.model_copy(update={"faults_file": Path("anef-2024")})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        active = Api(client).admin("GET", "/_admin/faults").json()["faults"]
    assert {spec["id"] for spec in active} == DOCUMENTED_IDS
    assert len(active) == len(DOCUMENTED_IDS)


def test_a_profile_with_a_mistake_names_the_file_and_the_field(tmp_path: Path) -> None:
    profile = tmp_path / "typo.yaml"
    profile.write_text("faults:\n  - id: document_lost\n    rate: 0.1\n  - id: documnet_lost\n    rate: 0.1\n")
    with pytest.raises(ConfigError) as raised:
        load_profile(profile)
    assert (
        str(raised.value) == f"{profile}:4: faults.1: unknown fault id 'documnet_lost'; did you mean 'document_lost'?"
    )


def test_the_ledger_counts_the_events_drawn_for_beside_the_firings(api: Api) -> None:
    """``draws``: every eligible event the platform decided, fired or not; with the entries, the rate
    it really injected at. Out-of-scope requests are not draws."""
    seed = applicant_seed()
    api.seed(seed)
    auth, _ = login(api, seed)
    before = api.admin("GET", "/_admin/ledger").json()["draws"].get("outage", 0)
    fired_before = len(api.ledger("outage"))
    api.set_faults({"id": "outage", "rate": 0.5, "scope": {"routes": ["/api/me/procedures"]}})
    answers = [api.http.get("/api/me/procedures", headers=auth).status_code for _ in range(40)]
    assert api.http.get("/api/me", headers=auth).status_code == 200  # out of scope: no draw
    api.set_faults()
    after = api.admin("GET", "/_admin/ledger").json()
    assert after["draws"]["outage"] - before == 40
    assert len([e for e in after["entries"] if e["fault"] == "outage"]) - fired_before == answers.count(503)
    assert 0 < answers.count(503) < 40
