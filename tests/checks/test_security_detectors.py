"""The four security detectors on hand-written events (a clean probe shows nothing, a failing one
shows its title), their scoring against a hand-built ledger, and the gate they fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checks.defects import Findings, get_detector
from checks.evaluate import GATING_DEFECTS
from checks.score import score
from contracts.faults import SECURITY
from scenarios.events import StepEvent
from tests.checks.test_defects import APPLICANT_ID, event, failed
from tests.checks.test_score import ALICE, BOB, fired, folder, step

KNOWN = "amina.benali.0012345678@courriel.example.org"
UNKNOWN = "inconnu.0123456789abcdef0123@courriel.example.org"
# defect id → (the probe passing, the probe finding the weakness, the ids the ledger would name)
CASES: dict[str, tuple[StepEvent, StepEvent, tuple[str, ...]]] = {
    "idor_leak": (
        event("security.idor", evidence={"dossier": "d9", "owner": "12"}),
        failed(
            "security.idor",
            "corrupt",
            "another applicant's dossier d9 answered 200 instead of 404",
            dossier="d9",
            owner="12",
            weakness="idor",
        ),
        ("d9",),
    ),
    "reset_token_reusable": (
        event("security.reset_reuse", duration_ms=90),
        failed(
            "security.reset_reuse",
            "corrupt",
            "a reset link already used set the password again: 200",
            weakness="reset link reusable",
        ),
        (),
    ),
    "user_enumeration": (
        event("security.enumeration", duration_ms=400, evidence={"existing": KNOWN, "unknown": UNKNOWN}),
        failed(
            "security.enumeration",
            "corrupt",
            "reset answers for an existing account come 298 ms later in each of 2 independent rounds of 6 "
            "interleaved samples per side (Hodges-Lehmann shift, exact Mann-Whitney test at p <= 0.01): round 1: "
            "shift +301 ms, Mann-Whitney p = 0.0022, medians 312 and 11 ms; round 2: shift +298 ms, "
            "Mann-Whitney p = 0.0022, medians 305 and 7 ms",
            existing=KNOWN.upper(),
            unknown=UNKNOWN,
            weakness="enumeration by timing",
        ),
        (KNOWN, UNKNOWN),
    ),
    "upload_unchecked": (
        event("security.upload_type", duration_ms=250, evidence={"dossier": "d3"}),
        failed(
            "security.upload_type",
            "corrupt",
            "executable file (466 bytes, sent as piece.pdf) accepted: 201",
            dossier="d3",
            weakness="upload executable",
        ),
        ("d3",),
    ),
}
TITLES = {
    "idor_leak": "Another applicant's dossier readable (IDOR)",
    "reset_token_reusable": "Reset link accepted a second time",
    "user_enumeration": "Reset or login answer tells whether an account exists",
    "upload_unchecked": "File of a disallowed type or size accepted",
}


def test_every_security_fault_has_a_detector_and_cases() -> None:
    assert set(CASES) == set(TITLES) == set(SECURITY)


@pytest.mark.parametrize("defect", sorted(CASES))
def test_security_detector_shows_nothing_on_a_passing_probe(defect: str) -> None:
    clean, _, _ = CASES[defect]
    assert get_detector(defect).detect(clean) is None
    assert Findings().extend([clean]).counts == {}


@pytest.mark.parametrize("defect", sorted(CASES))
def test_security_detector_names_its_weakness_with_title_and_evidence(defect: str) -> None:
    _, showing, objects = CASES[defect]
    registered = get_detector(defect)
    found = registered.detect(showing)
    assert found is not None
    assert found.defect == defect
    assert found.title == registered.title == TITLES[defect]
    assert found.objects == objects
    assert found.evidence.step == showing.step
    assert found.evidence.applicant_id == APPLICANT_ID
    assert found.sample()["why"]
    # Only its own detector: no generic fault reads a corrupt probe.
    assert dict(Findings().extend([showing]).counts) == {defect: 1}


def test_other_failures_of_the_probes_are_not_weaknesses() -> None:
    outage = failed("security.idor", "error", "GET /api/me/dossiers/{id}: 503 outage: indisponible", 503)
    refused = failed(
        "security.create",
        "blocked",
        "refused though entitled: Une demande est déjà en cours d'instruction.",
        409,
        code="request_in_progress",
        procedure="duplicate",
    )
    lost = event("security.email", "lost", 4000, message="security.email: not visible within 4 s")
    found = Findings().extend([outage, refused, lost])
    assert dict(found.counts) == {"outage": 1, "phantom_pending_request": 1, "reset_email_lost": 1}
    assert found.of("phantom_pending_request")[0].first.objects == ("duplicate",)


def test_security_defects_fail_the_gate() -> None:
    assert set(SECURITY) <= GATING_DEFECTS


# --- scoring against the ledger ----------------------------------------------------------------


def probe(journey: str, at: float, failing: str, applicant_id: str, **evidence: str) -> list[dict[str, Any]]:
    """A security journey up to its failing probe (an attempt of a second at ``at``)."""
    ids = {"applicant_id": applicant_id, "weakness": "x", **evidence}
    return [
        step("security.login", at - 1, journey_id=journey),
        step(failing, at, "corrupt", 1000, journey_id=journey, message="weakness", evidence=ids),
    ]


def test_each_probe_is_matched_to_its_firing(tmp_path: Path) -> None:
    events = [
        *probe("j1", 10, "security.idor", ALICE, dossier="d-bob"),
        *probe("j2", 20, "security.upload_type", BOB, dossier="d-bob"),
        *probe("j3", 30, "security.reset_reuse", ALICE),
        *probe("j4", 40, "security.enumeration", BOB, existing=KNOWN, unknown=UNKNOWN),
    ]
    ledger = [
        fired("idor_leak", 10.2, ALICE, "d-bob", "/api/me/dossiers/{dossier_id}"),
        fired("upload_unchecked", 20.3, BOB, "d-bob", "/api/me/dossiers/{dossier_id}/documents"),
        fired("reset_token_reusable", 30.5, ALICE, "reset", "/api/auth/password-reset/confirm"),
        fired("user_enumeration", 40.1, None, UNKNOWN, "/api/auth/password-reset"),
    ]
    computed = score(folder(tmp_path, events, ledger))
    for defect in SECURITY:
        found = computed.defects[defect]
        assert (found.injected, found.detected, found.matched, found.recall) == (1, 1, 1, 1.0), defect
        assert found.false_detections == 0
        assert found.eligible == 1
    assert list(computed.defects)[-len(SECURITY) :] == list(SECURITY)  # after the documented ones


def test_a_timing_probes_samples_are_one_firing_and_a_later_probe_another(tmp_path: Path) -> None:
    samples = [fired("user_enumeration", 10 + n * 0.4, ALICE, KNOWN, "/api/auth/password-reset") for n in range(7)]
    later = fired("user_enumeration", 100.2, ALICE, KNOWN, "/api/auth/password-reset")
    events = [
        *probe("j1", 10, "security.enumeration", ALICE, existing=KNOWN, unknown=UNKNOWN),
        *probe("j2", 100, "security.enumeration", ALICE, existing=KNOWN, unknown="autre." + UNKNOWN),
    ]
    found = score(folder(tmp_path, events, [*samples, later])).defects["user_enumeration"]
    assert (found.injected, found.detected, found.matched, found.false_detections) == (2, 2, 2, 0)


def test_a_leak_to_someone_else_does_not_explain_a_probe(tmp_path: Path) -> None:
    events = probe("j1", 10, "security.idor", ALICE, dossier="d-bob")
    ledger = [fired("idor_leak", 10.2, BOB, "d-alice", "/api/me/dossiers/{dossier_id}")]
    found = score(folder(tmp_path, events, ledger)).defects["idor_leak"]
    assert (found.injected, found.matched, found.false_detections) == (1, 0, 1)
    assert [m["object"] for m in found.missed] == ["d-alice"]
