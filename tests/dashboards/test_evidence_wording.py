"""Evidence samples in the report's language: every defect's symptom worded in French and in
English from the sample's fields, while the detectors' English ``why`` stays as the gate reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checks.defects import DETECTORS, get_detector
from checks.summary import DefectSample
from dashboards.i18n import NBSP, WORDINGS, evidence_why, language
from dashboards.report import render_report
from scenarios.events import StepEvent
from tests.checks.test_defects import CASES as DEFECT_CASES
from tests.checks.test_defects import event
from tests.checks.test_security_detectors import CASES as SECURITY_CASES
from tests.dashboards.test_report import text_of

SHOWING: dict[str, StepEvent] = {name: showing for name, (_, showing, _) in {**DEFECT_CASES, **SECURITY_CASES}.items()}
PROCEDURES = {"renewal", "address_change", "duplicate"}


def sample_of(defect: str, showing: StepEvent) -> DefectSample:
    """The sample ``summary.json`` keeps of the detection, read back as the report reads it."""
    found = get_detector(defect).detect(showing)
    assert found is not None
    return DefectSample.model_validate(json.loads(json.dumps(found.sample())))


def test_every_defect_has_a_wording_and_every_wording_a_defect() -> None:
    assert set(WORDINGS) == set(DETECTORS)
    assert set(SHOWING) == set(DETECTORS)


@pytest.mark.parametrize("defect", sorted(SHOWING))
def test_each_symptom_reads_in_french_and_in_english(defect: str) -> None:
    sample = sample_of(defect, SHOWING[defect])
    french, english = (evidence_why(language(code), defect, sample) for code in ("fr", "en"))
    assert french
    assert english
    assert french != english
    for text in (french, english):
        assert "{" not in text
        assert sample.message[:40] not in text or not sample.message  # the verbatim message is shown apart
        # No id the detector's own sentence names is lost (the verbatim message is shown beside it).
        for named in {o for o in sample.objects if o in sample.why and o not in sample.message} - PROCEDURES:
            assert named in text, (defect, named, text)


def test_the_wording_follows_the_sample_fields() -> None:
    fr, en = language("fr"), language("en")
    lost = sample_of("document_lost", SHOWING["document_lost"])
    assert evidence_why(fr, "document_lost", lost) == (
        f"pièce(s) dont le dépôt a été confirmé, jamais reçue(s) par la préfecture{NBSP}: doc-1, doc-2"
    )
    assert evidence_why(en, "document_lost", lost) == lost.why  # the detector's own English
    slow = sample_of("latency", SHOWING["latency"])
    assert slow.duration_s == pytest.approx(7.2)
    assert evidence_why(fr, "latency", slow) == f"l'étape login.submit a pris 7,2{NBSP}s"
    assert evidence_why(en, "latency", slow) == f"login.submit took 7.2{NBSP}s"
    refused = sample_of("phantom_pending_request", SHOWING["phantom_pending_request"])
    assert "(renouvellement)" in evidence_why(fr, "phantom_pending_request", refused)
    assert "(renewal)" in evidence_why(en, "phantom_pending_request", refused)
    server = sample_of("http_error", SHOWING["http_error"])
    assert server.status == 500
    assert evidence_why(fr, "http_error", server) == "erreur du serveur (HTTP 500) à l'étape login.dashboard"


def test_variants_of_one_defect_are_worded_apart() -> None:
    fr = language("fr")
    card = sample_of("title_not_marked_delivered", SHOWING["title_not_marked_delivered"])
    assert "titre card-1 remis par la préfecture" in evidence_why(fr, "title_not_marked_delivered", card)
    refusal = event(
        "renewal.create",
        "blocked",
        message="refused though entitled: Le titre précédent n'a pas été remis.",
        evidence={"code": "card_not_handed_over"},
    )
    worded = evidence_why(fr, "title_not_marked_delivered", sample_of("title_not_marked_delivered", refusal))
    assert worded.startswith("renouvellement refusé")
    upload = sample_of("upload_unchecked", SHOWING["upload_unchecked"])
    assert evidence_why(fr, "upload_unchecked", upload) == "exécutable accepté comme pièce"
    enumeration = sample_of("user_enumeration", SHOWING["user_enumeration"])
    assert evidence_why(language("en"), "user_enumeration", enumeration) == (
        "the answer's timing tells whether an account exists"
    )


def test_an_unknown_defect_keeps_the_detectors_sentence() -> None:
    sample = DefectSample(why="something new happened", step="login.submit")
    assert evidence_why(language("fr"), "not_declared_yet", sample) == "something new happened"


@pytest.mark.parametrize(
    ("lang", "finding", "other"),
    [
        ("fr", "jamais reçue(s) par la préfecture", "never received by the prefecture"),
        ("en", "never received by the prefecture", "jamais reçue(s) par la préfecture"),
    ],
)
def test_the_report_shows_evidence_in_its_language(failing: Path, lang: str, finding: str, other: str) -> None:
    html = render_report(failing, lang=lang)
    defect = html[html.index('id="defect-document_lost"') :]
    words = text_of(defect[: defect.index("</article>")])
    assert finding in words
    assert other not in words
    assert "renewal.reconcile: not visible within 5 s" in words  # the recorded message, verbatim
    # summary.json, which the gate and JUnit read, keeps the detector's English sentence.
    summary = json.loads((failing / "summary.json").read_text())
    assert summary["defects"]["document_lost"]["samples"][0]["why"].startswith("acknowledged document(s)")


@pytest.fixture
def failing(tmp_path: Path) -> Path:
    from tests.checks.test_gate import logins
    from tests.dashboards.test_report import defects_and_rights, judged, spread

    return judged(tmp_path / "r", spread(logins(90, 10) + defects_and_rights()))
