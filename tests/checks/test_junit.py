"""The gate's JUnit file: valid against published schemas, the same cases in every run, failures
told in words in their text (GitLab shows only the text), a time on every case."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from checks.defects import DETECTORS
from checks.judge import judge
from scenarios.events import Event, encode
from scenarios.journeys import known_steps
from scenarios.manifest import TargetInfo, new_manifest, process_identity
from tests.checks.test_gate import logins, slo_file
from tests.checks.test_store_and_rights import step

SCHEMAS = Path(__file__).parent / "schemas"
STARTED = datetime(2026, 3, 2, 9, 30, 0, tzinfo=UTC)
WINDOW_S = 42.5


@pytest.fixture(scope="module")
def schemas() -> dict[str, xmlschema.XMLSchema]:
    return {name: xmlschema.XMLSchema(str(SCHEMAS / name)) for name in ("ant-junit.xsd", "jenkins-junit-10.xsd")}


def run_folder(path: Path, events: list[Event], **manifest: Any) -> Path:
    """A results folder with a manifest as the conductor writes it (seed, target, host, window)."""
    (path / "events").mkdir(parents=True)
    (path / "events" / "worker-0.jsonl").write_bytes(b"".join(encode(e) for e in events))
    fields: dict[str, Any] = {
        "campaign": "smoke",
        "status": "complete",
        "seed": 20241201,
        "versions": {"anef-harness": "0.1.0"},
        "conductor": process_identity(),
        "target": TargetInfo(url="http://127.0.0.1:8123", embedded=True),
        "load_started": STARTED,
        "load_ended": datetime.fromtimestamp(STARTED.timestamp() + WINDOW_S, UTC),
    }
    (path / "manifest.json").write_text(new_manifest(**(fields | manifest)).json_text(), encoding="utf-8")
    return path


def failing_events() -> list[Event]:
    events: list[Event] = list(logins(90, 10, duration=300.0))
    events.append(
        step(
            "renewal.reconcile",
            "lost",
            applicant=17,
            time=STARTED.timestamp() + 12.0,
            evidence={"dossier": "d" * 32, "waiting_for": "documents " + "e" * 32, "applicant_id": "a" * 32},
            message="document not visible at the prefecture after 30 s",
        )
    )
    return events


CASES = {
    "passing": lambda: list(logins(1000, 0)),
    "failing": failing_events,
}


def judged(tmp_path: Path, kind: str, *, baseline: bool, **manifest: Any) -> ET.Element:
    results = run_folder(tmp_path / kind, CASES[kind](), **manifest)
    before = run_folder(tmp_path / "baseline", list(logins(1000, 0))) if baseline else None
    judge(results, slo=slo_file(tmp_path), baseline=before)
    return ET.parse(results / "junit.xml").getroot()


def cases(root: ET.Element) -> dict[tuple[str, str], ET.Element]:
    return {(suite.get("name", ""), case.get("name", "")): case for suite in root for case in suite.iter("testcase")}


@pytest.mark.parametrize("baseline", [False, True], ids=["no-baseline", "baseline"])
@pytest.mark.parametrize("kind", ["passing", "failing"])
def test_junit_is_valid_against_the_ant_and_jenkins_schemas(
    tmp_path: Path, schemas: dict[str, xmlschema.XMLSchema], kind: str, baseline: bool
) -> None:
    root = judged(tmp_path, kind, baseline=baseline)
    failed = [key for key, case in cases(root).items() if case.find("failure") is not None]
    assert bool(failed) == (kind == "failing")
    for name, schema in schemas.items():
        errors = [str(e.reason) for e in schema.iter_errors(str(tmp_path / kind / "junit.xml"))]
        assert errors == [], name


def test_a_partial_run_is_valid_too_and_its_run_case_is_an_error(
    tmp_path: Path, schemas: dict[str, xmlschema.XMLSchema]
) -> None:
    root = judged(tmp_path, "passing", baseline=False, status="interrupted")
    for schema in schemas.values():
        schema.validate(str(tmp_path / "passing" / "junit.xml"))
    error = cases(root)[("run", "complete")].find("error")
    assert error is not None
    assert error.get("type") == "partial_results"
    assert error.get("message", "").startswith("partial results: the run was interrupted")
    assert "exits 3" in (error.text or "")
    assert cases(judged(tmp_path / "whole", "passing", baseline=False))[("run", "complete")].find("error") is None


def test_the_cases_are_the_same_whether_the_run_passed_failed_or_had_a_baseline(tmp_path: Path) -> None:
    found = [
        set(cases(judged(tmp_path / f"{kind}-{baseline}", kind, baseline=baseline)))
        for kind in CASES
        for baseline in (False, True)
    ]
    assert all(names == found[0] for names in found)
    # run, one SLO, defects, shifts
    assert len(found[0]) == 1 + 1 + len(DETECTORS) + 2 * len(known_steps())


def test_a_breached_slo_says_its_sli_objective_good_total_and_burn_rate_in_text_and_message(tmp_path: Path) -> None:
    failure = cases(judged(tmp_path, "failing", baseline=False))[("slos", "login-submit-availability")].find("failure")
    assert failure is not None
    text, message = failure.text or "", failure.get("message", "")
    for told in (text, message):
        assert "90.000% of attempts good" in told
        assert "objective 99.000%" in told.replace("objective: ", "objective ")
        assert "burn rate 10.00" in told.replace("burn rate: ", "burn rate ")
    assert "(90 good of 100, 10 bad)" in text
    assert "99 % of logins succeed" in text  # the SLO's display name
    assert f"window: {WINDOW_S:.3f} s" in text


def test_a_detected_defect_tells_its_evidence_in_words_never_a_dict(tmp_path: Path) -> None:
    failure = cases(judged(tmp_path, "failing", baseline=False))[("defects", "document_lost")].find("failure")
    assert failure is not None
    assert failure.get("type") == "defect_detected"
    text, message = failure.text or "", failure.get("message", "")
    for told in (text, message):
        assert f"applicant 17 (platform id {'a' * 32}) at step renewal.reconcile, 12.0 s after the start" in told
        assert "never received by the prefecture" in told
    assert "what was seen: document not visible at the prefecture after 30 s" in text
    assert f"ids: dossier {'d' * 32}" in text
    assert DETECTORS["document_lost"].lives.en in text
    for told in (text, message):
        assert "{" not in told
        assert "': " not in told


def test_every_case_has_the_window_as_its_time_and_suites_say_when_where_and_what(tmp_path: Path) -> None:
    root = judged(tmp_path, "failing", baseline=True)
    suites = list(root)
    assert [s.get("name") for s in suites] == ["run", "slos", "defects", "shifts"]
    for suite in suites:
        assert suite.get("timestamp") == "2026-03-02T09:30:00"
        assert suite.get("hostname") == process_identity().host
        assert suite.get("time") == f"{WINDOW_S:.3f}"
        properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert properties["campaign"] == "smoke"
        assert properties["seed"] == "20241201"
        assert properties["target"] == "embedded (http://127.0.0.1:8123)"
        assert properties["harness_version"] == "0.1.0"
        assert properties["verdict"] == "fail"
        assert properties["status"] == "complete"
        assert properties["baseline"] == str(tmp_path / "baseline")
        counted = suite.findall("testcase")
        assert suite.get("tests") == str(len(counted))
        assert suite.get("failures") == str(sum(1 for c in counted if c.find("failure") is not None))
    assert {case.get("time") for case in root.iter("testcase")} == {f"{WINDOW_S:.3f}"}


def test_shift_cases_fail_when_flagged_pass_when_alike_and_say_why_they_were_not_tested(tmp_path: Path) -> None:
    found = cases(judged(tmp_path, "failing", baseline=True))
    rate = found[("shifts", "login.submit failure_rate shift")].find("failure")  # 10 of 100 against 0 of 1000
    assert rate is not None
    assert rate.get("type") == "shift"
    message = rate.get("message", "")
    assert message.startswith("failure rate shift: login.submit: failure rate 0.00% → 10.00% (+10.00 points, 95% CI +")
    assert message.endswith("n = 100 vs 1000")
    text = rate.text or ""
    assert text.startswith(message)
    assert f"baseline: {tmp_path / 'baseline'} (given with --baseline)" in text
    assert "interval's lower end beyond the bound (failure rate above +1 point(s))" in text
    skipped = found[("shifts", "renewal.reconcile latency shift")].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "not tested (n < 50): 0 ok attempt(s) now, 0 in the baseline"
    passing = cases(judged(tmp_path / "ok", "passing", baseline=True))[("shifts", "login.submit failure_rate shift")]
    assert list(passing) == []  # tested, nothing shifted: a passing case
    alone = cases(judged(tmp_path / "alone", "passing", baseline=False))[("shifts", "login.submit latency shift")]
    reason = alone.find("skipped")
    assert reason is not None
    assert reason.get("message", "").startswith("not tested: no baseline")


def test_a_generic_fault_passes_and_is_told_in_the_suite_output(tmp_path: Path) -> None:
    events: list[Event] = [*logins(100, 0), step("login.submit", "error", 10.0, status=503, message="503")]
    results = run_folder(tmp_path / "r", events)
    judge(results, slo=slo_file(tmp_path))
    root = ET.parse(results / "junit.xml").getroot()
    found = cases(root)
    assert list(found[("defects", "outage")]) == []
    out = next(s for s in root if s.get("name") == "defects").findtext("system-out") or ""
    assert out.startswith("outage (Service unavailable (HTTP 503)): detected 1 time(s)")
    assert "judged through the SLOs" in out


def test_the_schemas_refuse_what_ci_tools_need_and_a_case_lacks(
    tmp_path: Path, schemas: dict[str, xmlschema.XMLSchema]
) -> None:
    root = judged(tmp_path, "failing", baseline=False)
    next(root.iter("testcase")).attrib.pop("time")  # the Ant schema requires a time on every case
    next(root.iter("failure")).attrib.pop("type")
    broken = tmp_path / "broken.xml"
    ET.ElementTree(root).write(broken, encoding="utf-8")
    assert not schemas["ant-junit.xsd"].is_valid(str(broken))
    del root[0].attrib["name"]  # every schema requires a suite's name
    ET.ElementTree(root).write(broken, encoding="utf-8")
    assert not schemas["jenkins-junit-10.xsd"].is_valid(str(broken))
