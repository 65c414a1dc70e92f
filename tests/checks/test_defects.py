"""Each detector on hand-written events: a clean case shows nothing, a failing case shows its title.

Then ``Findings``: symptoms against incidents (one platform incident seen several times counts once).
"""

from __future__ import annotations

from typing import Any

import pytest
from msgspec.structs import replace

from checks.defects import (
    DETECTORS,
    DetectorSettings,
    Findings,
    get_detector,
)
from contracts.faults import SECURITY
from core.errors import ConfigError
from scenarios.events import JourneyEvent, JourneyOutcome, StepEvent, step_event

APPLICANT_ID = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"


def event(step: str, outcome: str = "ok", duration_ms: float = 40.0, **extra: Any) -> StepEvent:
    """A step event as a journey records it."""
    data: dict[str, Any] = {
        "time": 1_790_000_000.0,
        "journey": step.split(".", 1)[0],
        "step": step,
        "outcome": outcome,
        "duration_ms": duration_ms,
        "journey_id": extra.pop("journey_id", "j1"),
        "worker": "worker-0",
        "channel": "api",
        "applicant": extra.pop("applicant", 7),
        "attempt": extra.pop("attempt", 1),
    }
    data.update(extra)
    return step_event(data)


def failed(step: str, outcome: str, message: str, status: int | None = None, **evidence: str) -> StepEvent:
    extra: dict[str, Any] = {"message": message, "evidence": {"applicant_id": APPLICANT_ID, **evidence}}
    if status is not None:
        extra["status"] = status
    return event(step, outcome, **extra)


WAITING = "not visible within 4 s"
# defect id → (an event where nothing is wrong, an event showing the defect, the ids the ledger would name)
CASES: dict[str, tuple[StepEvent, StepEvent, tuple[str, ...]]] = {
    "title_not_marked_delivered": (
        event("card_handover.visible", duration_ms=120, evidence={"card": "card-1"}),
        failed("card_handover.visible", "lost", f"card_handover.visible: {WAITING}", card="card-1"),
        ("card-1",),
    ),
    "phantom_pending_request": (
        event("renewal.create", evidence={"dossier": "d1"}),
        failed(
            "renewal.create",
            "blocked",
            "refused though entitled: Une demande est déjà en cours d'instruction.",
            409,
            code="request_in_progress",
        ),
        ("renewal",),
    ),
    "reset_email_lost": (
        event("password_reset.email", duration_ms=300),
        event("password_reset.email", "lost", 4000, message=f"password_reset.email: {WAITING}"),
        (),
    ),
    "agent_request_hidden": (
        event("agent_request.visible", duration_ms=200, evidence={"dossier": "d1", "request": "r1"}),
        failed("agent_request.visible", "lost", WAITING, dossier="d1", request="r1"),
        ("r1",),
    ),
    "document_lost": (
        event("upload.reconcile", duration_ms=250, evidence={"dossier": "d1"}),
        failed("renewal.reconcile", "lost", WAITING, dossier="d1", waiting_for="documents doc-1,doc-2"),
        ("doc-1", "doc-2"),
    ),
    "procedure_not_forwarded": (
        event("address_change.reconcile", duration_ms=250, evidence={"dossier": "d1"}),
        failed("address_change.reconcile", "lost", WAITING, dossier="d1", waiting_for="dossier"),
        ("d1",),
    ),
    "procedure_not_selectable": (
        event("renewal.choose_procedure"),
        failed(
            "renewal.choose_procedure",
            "missing",
            "procedure 'renewal' absent from the list; offered: address_change, duplicate",
            procedure="renewal",
        ),
        ("renewal",),
    ),
    "http_error": (
        failed("login.dashboard", "error", "GET /api/me: 404 not_found: Introuvable.", 404),
        failed("login.dashboard", "error", "GET /api/me/dossiers: 500 server_error: Une erreur est survenue.", 500),
        (),
    ),
    "outage": (
        event("login.dashboard"),
        failed("renewal.submit", "error", "POST /api/me/dossiers/{id}/submit: 503 service_unavailable: …", 503),
        (),
    ),
    "timeout": (
        event("login.submit", duration_ms=2900),
        failed("renewal.receipt", "error", "GET /api/me/dossiers/{id}/receipt: 504 gateway_timeout: …", 504),
        (),
    ),
    "connection_reset": (
        failed("renewal.create", "error", "POST /api/me/dossiers: 500 server_error: Une erreur est survenue.", 500),
        failed("renewal.upload", "error", 'POST /api/me/dossiers/{id}/documents: 200 http_200: {"partial":', 200),
        (),
    ),
    "latency": (
        event("renewal.reconcile", duration_ms=9000),  # a slow watch is sync_delay, not latency
        event("login.submit", duration_ms=7200),
        (),
    ),
    "session_drop": (
        failed("login.submit", "blocked", "refused though entitled: Identifiants incorrects.", 401, code="bad_login"),
        failed(
            "login.dashboard",
            "error",
            "GET /api/me/dossiers: 401 session_expired: Votre session a expiré. Veuillez vous reconnecter.",
            401,
        ),
        (),
    ),
    "email_delay": (
        event("password_reset.email", duration_ms=900),
        event("password_reset.email", duration_ms=25_000),
        (),
    ),
    "sync_delay": (
        event("renewal.reconcile", duration_ms=800, evidence={"dossier": "d1"}),
        event("renewal.reconcile", duration_ms=12_000, evidence={"dossier": "d1", "waiting_for": "documents doc-9"}),
        ("d1", "doc-9"),
    ),
}


TITLES = {
    "title_not_marked_delivered": "Card handed over at the prefecture, never marked handed over for the applicant",
    "phantom_pending_request": "New procedure refused: 'a request is already under review', though none is",
    "reset_email_lost": "Reset link announced as sent, never received",
    "agent_request_hidden": "Prefecture's request for complements never shown to the applicant",
    "document_lost": "Document acknowledged, never received by the prefecture",
    "procedure_not_forwarded": "Procedure filed on the dashboard, never received by the prefecture",
    "procedure_not_selectable": "Procedure missing from the list the applicant can choose from",
    "http_error": "Server error (HTTP 5xx) on a step",
    "outage": "Service unavailable (HTTP 503)",
    "timeout": "No answer in time (timeout or HTTP 504)",
    "connection_reset": "Connection cut in the middle of an answer",
    "latency": "Step much slower than it should be",
    "session_drop": "Session lost mid-journey ('session expired' after a successful login)",
    "email_delay": "E-mail delivered late",
    "sync_delay": "Change across the seam visible only after a long delay",
}


def test_every_registered_detector_has_cases() -> None:
    # The security detectors have theirs in test_security_detectors.py.
    assert set(CASES) == set(DETECTORS) - set(SECURITY) == set(TITLES)


@pytest.mark.parametrize("defect", sorted(CASES))
def test_detector_shows_nothing_on_a_clean_event(defect: str) -> None:
    clean, _, _ = CASES[defect]
    assert get_detector(defect).detect(clean) is None


@pytest.mark.parametrize("defect", sorted(CASES))
def test_detector_names_its_defect_with_title_and_evidence(defect: str) -> None:
    _, showing, objects = CASES[defect]
    registered = get_detector(defect)
    found = registered.detect(showing)
    assert found is not None
    assert found.defect == defect
    assert found.title == registered.title == TITLES[defect]
    assert found.objects == objects
    assert found.evidence.step == showing.step
    assert found.evidence.applicant == 7
    assert found.sample()["why"]


def test_titles_are_the_human_ones() -> None:
    _, lost, _ = CASES["document_lost"]
    found = get_detector("document_lost").detect(lost)
    assert found is not None
    assert found.title == "Document acknowledged, never received by the prefecture"
    assert found.evidence.applicant_id == APPLICANT_ID
    assert found.evidence.dossier == "d1"
    assert found.evidence.ended == pytest.approx(found.evidence.time + found.evidence.duration_s)


def test_the_documented_refusals_are_recognised_by_their_french_words_too() -> None:
    # The pages give no error code: the reason of a procedure offered as unavailable is all there is.
    page = event(
        "renewal.choose_procedure",
        "blocked",
        channel="browser",
        status=200,
        message="procedure 'renewal' offered as unavailable: Votre titre de séjour précédent n'a pas été remis : "
        "le renouvellement ne peut pas être demandé.",
    )
    found = get_detector("title_not_marked_delivered").detect(page)
    assert found is not None
    assert found.title == "Card handed over at the prefecture, never marked handed over for the applicant"
    unavailable = failed(
        "renewal.create", "blocked", "refused though entitled: Cette démarche n'est pas disponible.", 409
    )
    shown = get_detector("procedure_not_selectable").detect(unavailable)
    assert shown is not None
    assert shown.title == "Procedure missing from the list the applicant can choose from"


def test_a_connection_reset_seen_by_httpx_or_chromium() -> None:
    for message in (
        "POST /api/auth/login: RemoteProtocolError: peer closed connection without sending complete message body",
        "browser: net::ERR_EMPTY_RESPONSE at http://127.0.0.1:8000/connexion",
    ):
        found = get_detector("connection_reset").detect(event("login.submit", "error", message=message))
        assert found is not None, message
        assert found.title == "Connection cut in the middle of an answer"


def test_a_client_timeout_is_a_timeout() -> None:
    found = get_detector("timeout").detect(event("renewal.upload", "timeout", 30_000, message="no answer in time"))
    assert found is not None
    assert found.title == "No answer in time (timeout or HTTP 504)"


def test_thresholds_come_from_the_settings() -> None:
    slow = event("login.submit", duration_ms=2500)
    assert get_detector("latency").detect(slow) is None
    found = get_detector("latency").detect(slow, DetectorSettings(latency_s=2.0))
    assert found is not None
    assert found.title == "Step much slower than it should be"


def test_a_security_probe_of_many_requests_is_not_a_slow_step() -> None:
    detector = get_detector("latency")
    assert detector.detect(event("security.enumeration", duration_ms=5800)) is None
    assert detector.detect(event("login.submit", duration_ms=5800)) is not None


def test_an_unknown_defect_gets_did_you_mean() -> None:
    with pytest.raises(ConfigError, match="did you mean 'document_lost'"):
        get_detector("document_lots")


# --- findings: symptoms and incidents ------------------------------------------------------------------


def test_a_card_never_marked_handed_over_then_a_refused_renewal_is_one_incident() -> None:
    refused = failed(
        "renewal.choose_procedure",
        "blocked",
        "procedure 'renewal' offered as unavailable: Votre titre de séjour précédent n'a pas été remis.",
        200,
        journey_id="j2",
    )
    findings = Findings().extend([CASES["title_not_marked_delivered"][1], refused, replace(refused, attempt=2)])
    assert findings.counts == {"title_not_marked_delivered": 3}
    assert findings.incidents == {"title_not_marked_delivered": 1}
    (incident,) = findings.of("title_not_marked_delivered")
    assert incident.first.objects == ("card-1",)


def test_a_request_in_progress_while_a_handed_over_card_was_never_seen_so_is_that_card_not_a_phantom() -> None:
    # The handover's watch was lost: the card's dossier is still open on the applicant's side, so a
    # new procedure is refused as "a request is already under review". One incident of defect 1.
    unavailable = failed(
        "address_change.choose_procedure",
        "blocked",
        "procedure 'address_change' offered as unavailable: Une demande est déjà en cours d'instruction.",
        200,
        journey_id="j2",
        handover_unseen="card-1",
    )
    refused_create = failed(
        "address_change.create",
        "blocked",
        "refused though entitled: Une demande est déjà en cours d'instruction.",
        409,
        journey_id="j3",
        code="request_in_progress",
        handover_unseen="card-1",
    )
    findings = Findings().extend([CASES["title_not_marked_delivered"][1], unavailable, refused_create])
    assert findings.counts == {"title_not_marked_delivered": 3}
    assert findings.incidents == {"title_not_marked_delivered": 1}
    assert {incident.first.objects for incident in findings.of("title_not_marked_delivered")} == {("card-1",)}
    # Without a handover never seen, the same refusal is the phantom request.
    alone = failed(
        "address_change.choose_procedure",
        "blocked",
        "procedure 'address_change' offered as unavailable: Une demande est déjà en cours d'instruction.",
        200,
    )
    assert Findings().extend([alone]).counts == {"phantom_pending_request": 1}


def test_each_lost_document_is_an_incident_and_a_lost_document_seen_twice_is_one() -> None:
    lost = CASES["document_lost"][1]
    again = failed("upload.reconcile", "lost", WAITING, dossier="d1", waiting_for="documents doc-2", journey_id="j3")
    findings = Findings().extend([lost, again])
    assert findings.counts == {"document_lost": 2}
    assert findings.incidents == {"document_lost": 2}  # doc-1 and doc-2


def test_a_dropped_session_refusing_every_retry_is_one_incident_per_journey() -> None:
    drop = CASES["session_drop"][1]
    findings = Findings().extend(
        [drop, replace(drop, attempt=2), replace(drop, attempt=3), replace(drop, journey_id="j9")]
    )
    assert findings.counts == {"session_drop": 4}
    assert findings.incidents == {"session_drop": 2}


def test_refusals_of_repeated_steps_are_distinct_incidents() -> None:
    outage = CASES["outage"][1]
    # One upload step per document: same journey, same step, attempt 1 each time.
    findings = Findings().extend([outage, replace(outage, time=outage.time + 1.5)])
    assert findings.incidents == {"outage": 2}


def test_findings_keep_samples_and_the_first_time_seen() -> None:
    _, lost, _ = CASES["reset_email_lost"]
    findings = Findings(max_samples=1).extend([lost, replace(lost, time=lost.time + 60)])
    assert findings.first_seen["reset_email_lost"] == pytest.approx(lost.time + 4.0)
    (sample,) = findings.samples["reset_email_lost"]
    assert sample["why"] == "reset link announced, not in the mailbox by the deadline"
    assert sample["applicant"] == 7


def test_journey_events_and_quick_successes_show_nothing() -> None:
    journey = JourneyEvent(
        time=1.0, journey="renewal", journey_id="j", outcome=JourneyOutcome.FAILED, duration_ms=1.0, worker="w"
    )
    quick = [clean for clean, _, _ in CASES.values() if clean.outcome == "ok" and clean.duration_ms < 5000]
    findings = Findings().extend([journey, *quick])
    assert len(quick) > 5
    assert not findings.counts
    assert not findings.incidents
