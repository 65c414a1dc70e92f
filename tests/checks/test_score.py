"""Scoring hand-built results folders against their ledger: recall, misses, false detections, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from anef_harness.score_cli import register
from checks.score import read_ledger, route_named, score, write_score
from contracts.faults import DOCUMENTED
from core.errors import ConfigError

T0 = 1_790_000_000.0
ALICE, BOB = "a" * 32, "b" * 32  # platform applicant ids


def step(step: str, at: float, outcome: str = "ok", duration_ms: float = 50.0, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "step",
        "time": T0 + at,
        "journey": step.split(".", 1)[0],
        "step": step,
        "outcome": outcome,
        "duration_ms": duration_ms,
        "journey_id": extra.pop("journey_id"),
        "worker": "worker-0",
        "channel": "api",
        "applicant": extra.pop("applicant", 1),
        "attempt": extra.pop("attempt", 1),
        **extra,
    }


def fired(fault: str, at: float, applicant: str | None, obj: str | None, route: str) -> dict[str, Any]:
    moment = datetime.fromtimestamp(T0 + at, UTC).isoformat().replace("+00:00", "Z")
    return {"time": moment, "fault": fault, "applicant": applicant, "object": obj, "route": route}


def renewal(journey: str, at: float, documents: list[str], reconcile: dict[str, Any]) -> list[dict[str, Any]]:
    """A renewal that uploads documents and ends with the given reconcile watch."""
    events = [step("renewal.login", at, journey_id=journey), step("renewal.create", at + 0.1, journey_id=journey)]
    for n, document in enumerate(documents):
        events.append(step("renewal.upload", at + 0.2 + n / 10, journey_id=journey, evidence={"document": document}))
    events.append(step("renewal.reconcile", at + 1, journey_id=journey, **reconcile))
    return events


LOST_DOC: dict[str, Any] = {
    "outcome": "lost",
    "duration_ms": 4000,
    "message": "renewal.reconcile: not visible within 4 s",
    "evidence": {"dossier": "d1", "waiting_for": "documents doc-2", "applicant_id": ALICE},
}
REFUSED: dict[str, Any] = {
    "outcome": "blocked",
    "status": 409,
    "message": "refused though entitled: Une demande est déjà en cours d'instruction.",
    "evidence": {"code": "request_in_progress", "applicant_id": BOB},
}


def folder(
    tmp_path: Path,
    events: list[dict[str, Any]],
    ledger: list[dict[str, Any]] | None,
    faults: list[dict[str, Any]] | None = None,
    schedule: list[dict[str, Any]] | None = None,
    draws: dict[str, int] | None = None,
) -> Path:
    results = tmp_path / "results"
    (results / "events").mkdir(parents=True)
    lines = "".join(json.dumps(e) + "\n" for e in events)
    (results / "events" / "worker-0.jsonl").write_text(lines, encoding="utf-8")
    if ledger is not None:
        (results / "ledger.json").write_text(json.dumps({"entries": ledger, "draws": draws or {}}), encoding="utf-8")
    profile = tmp_path / "profile.yaml"
    profile.write_text(yaml.safe_dump({"faults": faults or []}), encoding="utf-8")
    campaign = {"name": "hand-built", "faults": {"profile": str(profile), "schedule": schedule or []}}
    (results / "campaign.yaml").write_text(yaml.safe_dump(campaign), encoding="utf-8")
    manifest = {"campaign": "hand-built", "source": str(tmp_path / "c.yaml"), "status": "complete"}
    (results / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return results


def test_every_firing_caught_gives_perfect_recall(tmp_path: Path) -> None:
    events = [
        *renewal("j1", 0, ["doc-1", "doc-2"], LOST_DOC),
        step("renewal.create", 10, journey_id="j2", applicant=2, **REFUSED),
        step("renewal.create", 10.5, journey_id="j2", applicant=2, attempt=2),
        *renewal("j3", 20, ["doc-3"], {"evidence": {"dossier": "d3"}}),
    ]
    ledger = [
        fired("document_lost", 0.9, ALICE, "doc-2", "sync:dossier.submitted"),
        fired("phantom_pending_request", 10.01, BOB, "renewal", "/api/me/dossiers"),
    ]
    faults = [{"id": "document_lost", "rate": 0.3}, {"id": "phantom_pending_request", "rate": 0.3}]
    computed = score(folder(tmp_path, events, ledger, faults))
    lost = computed.defects["document_lost"]
    assert (lost.injected, lost.detected, lost.matched, lost.recall, lost.false_detections) == (1, 1, 1, 1.0, 0)
    assert lost.eligible == 3  # three documents were watched at the prefecture, one never arrived
    assert lost.estimated_rate == pytest.approx(1 / 3, abs=1e-4)
    assert lost.injected_rate == 0.3
    assert lost.time_to_first_detection_s == pytest.approx(1 + 4 - 0.9, abs=1e-3)
    phantom = computed.defects["phantom_pending_request"]
    assert (phantom.injected, phantom.matched, phantom.recall, phantom.false_detections) == (1, 1, 1.0, 0)
    assert phantom.eligible == 4  # create attempts: j1, j2 twice, j3
    assert list(computed.defects)[: len(DOCUMENTED)] == list(DOCUMENTED)
    assert computed.defects["reset_email_lost"].recall is None  # nothing injected


def test_a_firing_nobody_saw_is_missed(tmp_path: Path) -> None:
    events = renewal("j1", 0, ["doc-1", "doc-2"], LOST_DOC)
    ledger = [
        fired("document_lost", 0.9, ALICE, "doc-2", "sync:dossier.submitted"),
        fired("document_lost", 30, ALICE, "doc-77", "sync:document.added"),  # no journey watched doc-77
    ]
    lost = score(folder(tmp_path, events, ledger)).defects["document_lost"]
    assert (lost.injected, lost.matched, lost.recall, lost.false_detections) == (2, 1, 0.5, 0)
    assert [m["object"] for m in lost.missed] == ["doc-77"]


def test_firings_are_observable_unobservable_by_design_or_unwatched(tmp_path: Path) -> None:
    watched = {"evidence": {"dossier": "d1", "documents": "doc-1,doc-2", "applicant_id": ALICE}}
    lost = {**LOST_DOC, "evidence": {**LOST_DOC["evidence"], "documents": "doc-1,doc-2"}}
    events = [
        *renewal("j1", 0, ["doc-1", "doc-2"], lost),
        *renewal("j2", 5, ["doc-5"], {"evidence": {**watched["evidence"], "documents": "doc-5"}}),
        step("renewal.upload", 20, journey_id="j3", evidence={"document": "doc-9"}),  # abandoned: never watched
    ]
    ledger = [
        fired("document_lost", 0.9, ALICE, "doc-2", "sync:dossier.submitted"),  # watched, detected
        fired("document_lost", 5.9, ALICE, "doc-5", "sync:dossier.submitted"),  # watched, arrived after all: missed
        fired("document_lost", 20.5, ALICE, "doc-9", "sync:document.added"),  # the harness never looked
        fired("document_lost", 55, ALICE, "doc-10", "sync:document.added"),  # in the last watch deadline
    ]
    results = folder(tmp_path, events, ledger)
    manifest = json.loads((results / "manifest.json").read_text())
    manifest["load_ended"] = datetime.fromtimestamp(T0 + 60, UTC).isoformat()
    (results / "manifest.json").write_text(json.dumps(manifest))
    scored = score(results).defects["document_lost"]
    assert (scored.injected, scored.observable, scored.matched, scored.unwatched) == (4, 2, 1, 1)
    assert scored.recall_observable == 0.5
    assert scored.unobservable == {
        "fired in the load's last watch deadline: no watch could end before the load stopped": 1
    }
    assert [f["object"] for f in scored.unwatched_sample] == ["doc-9"]


def test_a_reset_email_is_observable_when_its_own_watch_looked(tmp_path: Path) -> None:
    events = [
        step("security.enumeration", 0, journey_id="s1", duration_ms=500),
        step("security.enumeration_email", 0.6, journey_id="s1", duration_ms=300),
        step("security.enumeration_email", 0.9, "lost", duration_ms=2000, journey_id="s1"),
    ]
    ledger = [fired("reset_email_lost", 0.2, ALICE, "reset", "/api/auth/password-reset")]
    scored = score(folder(tmp_path, events, ledger)).defects["reset_email_lost"]
    assert (scored.injected, scored.observable, scored.matched, scored.recall_observable) == (1, 1, 1, 1.0)
    assert scored.eligible == 2  # each reset the probe asked for is watched


def test_documents_count_when_their_watch_ended_ok_whatever_its_first_looks_waited_for(tmp_path: Path) -> None:
    waited = {"evidence": {"dossier": "d1", "waiting_for": "dossier"}}  # a look before the dossier crossed
    never = {**LOST_DOC, "evidence": {"dossier": "d2", "waiting_for": "dossier"}}
    events = [*renewal("j1", 0, ["doc-1", "doc-2"], waited), *renewal("j2", 10, ["doc-3"], never)]
    lost = score(folder(tmp_path, events, [])).defects["document_lost"]
    assert lost.eligible == 2  # j1's two documents reached the prefecture; j2's dossier never did


def test_a_sticky_fault_is_estimated_as_a_share_of_applicants(tmp_path: Path) -> None:
    refused = [step("renewal.create", 10 + n, journey_id=f"r{n}", applicant=2, **REFUSED) for n in range(3)]
    created = [step("renewal.create", 20 + n, journey_id=f"c{n}", applicant=n) for n in (1, 3, 4)]
    ledger = [fired("phantom_pending_request", 10.01 + n, BOB, "renewal", "/api/me/dossiers") for n in range(3)]
    faults = [{"id": "phantom_pending_request", "rate": 1.0, "scope": {"share": 0.25}}]
    phantom = score(folder(tmp_path, [*refused, *created], ledger, faults)).defects["phantom_pending_request"]
    assert phantom.eligible == 4  # four applicants tried to create; one is stuck, whatever their retries
    assert phantom.estimated_rate == 0.25
    assert phantom.injected_rate == 0.25
    low, high = phantom.estimated_rate_ci or (0.0, 0.0)
    assert low < 0.25 < high
    assert high - low > 0.5


def test_the_wilson_interval_narrows_with_the_events_and_contains_the_estimate() -> None:
    from checks.shift_stats import wilson

    small, large = wilson(10, 100), wilson(1000, 10_000)
    assert small[0] < 0.1 < small[1]
    assert large[0] < 0.1 < large[1]
    assert large[1] - large[0] < (small[1] - small[0]) / 5
    assert wilson(0, 50)[0] == 0.0
    assert wilson(50, 50)[1] == 1.0


def test_a_fault_limited_to_procedures_counts_only_their_filings(tmp_path: Path) -> None:
    events = [
        *renewal("j1", 0, [], {"evidence": {"dossier": "d1"}}),
        step("address_change.reconcile", 5, journey_id="a1", evidence={"dossier": "d2"}),
        step("address_change.reconcile", 6, journey_id="a2", evidence={"dossier": "d3"}),
    ]
    faults = [{"id": "procedure_not_forwarded", "rate": 0.5, "params": {"procedures": ["address_change"]}}]
    forwarded = score(folder(tmp_path, events, [], faults)).defects["procedure_not_forwarded"]
    assert forwarded.eligible == 2  # a renewal could not be swallowed by this fault: not in the denominator


def test_the_realized_rate_is_the_platforms_firings_over_its_draws(tmp_path: Path) -> None:
    events = [*renewal("j1", 0, ["doc-1", "doc-2"], LOST_DOC)]
    ledger = [fired("document_lost", 0.9, ALICE, "doc-2", "sync:dossier.submitted")]
    faults = [{"id": "document_lost", "rate": 0.3}]
    lost = score(folder(tmp_path, events, ledger, faults, draws={"document_lost": 8})).defects["document_lost"]
    assert lost.realized_rate == 0.125  # one firing in eight draws, against 0.3 configured
    assert lost.estimated_rate == 0.5  # what the harness saw: one of its two documents


def test_no_realized_rate_for_a_sticky_fault_or_without_draws(tmp_path: Path) -> None:
    refused = [step("renewal.create", 10 + n, journey_id=f"r{n}", applicant=2, **REFUSED) for n in range(2)]
    ledger = [fired("phantom_pending_request", 10.01 + n, BOB, "renewal", "/api/me/dossiers") for n in range(2)]
    faults = [{"id": "phantom_pending_request", "rate": 1.0, "scope": {"share": 0.25}}]
    sticky = score(folder(tmp_path / "a", refused, ledger, faults, draws={"phantom_pending_request": 2}))
    assert sticky.defects["phantom_pending_request"].realized_rate is None  # a share of applicants, not of draws
    older = score(folder(tmp_path / "b", refused, ledger, [{"id": "phantom_pending_request", "rate": 0.5}]))
    assert older.defects["phantom_pending_request"].realized_rate is None


def test_every_listing_is_eligible_for_a_procedure_missing_from_it(tmp_path: Path) -> None:
    # An address change's listing checks renewal too (journeys check the whole list): the platform
    # drew the fault there as well. Creating an address change cannot hit a renewal-only fault.
    events = [
        step("renewal.choose_procedure", 1, journey_id="r1"),
        step("renewal.create", 2, journey_id="r1"),
        step("address_change.choose_procedure", 3, journey_id="a1"),
        step("address_change.create", 4, journey_id="a1"),
    ]
    faults = [{"id": "procedure_not_selectable", "rate": 0.5, "params": {"procedure": "renewal"}}]
    selectable = score(folder(tmp_path, events, [], faults)).defects["procedure_not_selectable"]
    assert selectable.eligible == 3


def test_a_detection_no_firing_explains_is_false(tmp_path: Path) -> None:
    events = [step("renewal.create", 10, journey_id="j2", applicant=2, **REFUSED)]
    ledger = [fired("phantom_pending_request", 50, BOB, "renewal", "/api/me/dossiers")]  # long after
    phantom = score(folder(tmp_path, events, ledger)).defects["phantom_pending_request"]
    assert (phantom.injected, phantom.detected, phantom.matched, phantom.false_detections) == (1, 1, 0, 1)
    assert phantom.recall == 0.0
    assert phantom.false[0]["title"] == "New procedure refused: 'a request is already under review', though none is"


def test_the_same_card_seen_lost_then_refusing_a_renewal_matches_one_firing(tmp_path: Path) -> None:
    visible: dict[str, Any] = {
        "outcome": "lost",
        "duration_ms": 4000,
        "evidence": {"card": "card-9", "applicant_id": ALICE},
    }
    refused: dict[str, Any] = {
        "outcome": "blocked",
        "status": 200,
        "message": "procedure 'renewal' offered as unavailable: Votre titre de séjour précédent n'a pas été remis",
        "evidence": {"applicant_id": ALICE},
    }
    events = [
        step("card_handover.handover", 0, journey_id="j1", evidence={"card": "card-9"}),
        step("card_handover.visible", 0.1, journey_id="j1", **visible),
        step("renewal.choose_procedure", 30, journey_id="j2", **refused),
    ]
    ledger = [fired("title_not_marked_delivered", 0.05, ALICE, "card-9", "sync:card.handed_over")]
    title = score(folder(tmp_path, events, ledger)).defects["title_not_marked_delivered"]
    assert (title.injected, title.symptoms, title.detected, title.matched, title.false_detections) == (1, 2, 1, 1, 0)


def test_a_lost_reset_email_is_matched_by_time_within_its_journey(tmp_path: Path) -> None:
    events = [
        step("password_reset.request", 0, journey_id="j1"),
        step("password_reset.email", 0.3, "lost", 4000, journey_id="j1"),
        step("password_reset.request", 100, journey_id="j2", applicant=2),
        step("password_reset.email", 100.3, "lost", 4000, journey_id="j2", applicant=2),
    ]
    ledger = [fired("reset_email_lost", 0.02, ALICE, "reset", "/api/auth/password-reset")]
    reset = score(folder(tmp_path, events, ledger)).defects["reset_email_lost"]
    assert (reset.injected, reset.detected, reset.matched, reset.false_detections) == (1, 2, 1, 1)
    assert reset.false[0]["time"] == pytest.approx(T0 + 100.3)


def test_a_false_detection_explained_by_another_fault_says_which(tmp_path: Path) -> None:
    events = renewal("j1", 0, ["doc-1", "doc-2"], LOST_DOC)
    ledger = [fired("sync_delay", 0.9, ALICE, "doc-2", "sync:dossier.submitted")]  # late, not lost
    computed = score(folder(tmp_path, events, ledger))
    assert computed.defects["document_lost"].confused_with == {"sync_delay": 1}
    assert computed.defects["sync_delay"].recall == 0.0  # the watch gave up before it arrived


def test_generic_faults_are_matched_by_session_time_and_route(tmp_path: Path) -> None:
    error: dict[str, Any] = {
        "outcome": "error",
        "status": 500,
        "message": "GET /api/me/dossiers/{id}/receipt: 500 server_error: Une erreur est survenue.",
        "evidence": {"applicant_id": ALICE},
    }
    events = [step("renewal.receipt", 5, journey_id="j1", **error)]
    ledger = [
        fired("http_error", 5.01, BOB, None, "/api/me/dossiers/{dossier_id}/receipt"),  # another session
        fired("http_error", 5.02, ALICE, None, "/api/me"),  # another route
        fired("http_error", 5.03, ALICE, None, "/api/me/dossiers/{dossier_id}/receipt"),
    ]
    http = score(folder(tmp_path, events, ledger)).defects["http_error"]
    assert (http.injected, http.matched, http.false_detections) == (3, 1, 0)
    assert http.missed[0]["applicant"] == BOB
    assert route_named("/api/me/dossiers/{dossier_id}", "GET /api/me/dossiers/{id}: 503 …")
    assert not route_named("/api/me", "GET /api/me/dossiers/{id}: 503 …")


def test_firings_after_the_load_ended_are_not_counted(tmp_path: Path) -> None:
    results = folder(tmp_path, renewal("j1", 0, ["doc-1"], {}), [fired("document_lost", 60, ALICE, "d", "sync:x")])
    manifest = json.loads((results / "manifest.json").read_text())
    manifest["load_ended"] = datetime.fromtimestamp(T0 + 10, UTC).isoformat()
    (results / "manifest.json").write_text(json.dumps(manifest))
    lost = score(results).defects["document_lost"]
    assert (lost.injected, lost.after_load, lost.recall) == (0, 1, None)


def test_a_rate_changed_by_the_schedule_is_scheduled(tmp_path: Path) -> None:
    faults = [
        {"id": "document_lost", "rate": 0.1},
        {"id": "agent_request_hidden", "rate": 1.0, "scope": {"share": 0.2}},
    ]
    schedule = [{"at": 10, "faults": [{"id": "document_lost", "rate": 0.5}, *faults[1:]]}]
    defects = score(folder(tmp_path, renewal("j1", 0, ["doc-1"], {}), [], faults, schedule)).defects
    assert (defects["document_lost"].injected_rate, defects["document_lost"].injected_rate_note) == (None, "scheduled")
    assert defects["agent_request_hidden"].injected_rate == pytest.approx(0.2)
    assert "sticky share" in str(defects["agent_request_hidden"].injected_rate_note)
    assert defects["reset_email_lost"].injected_rate_note == "not configured"


def test_a_fault_free_campaign_has_nothing_to_score(tmp_path: Path) -> None:
    events = [*renewal("j1", 0, ["doc-1"], {"evidence": {"dossier": "d1"}}), step("login.submit", 3, journey_id="j2")]
    computed = score(folder(tmp_path, events, []))
    assert set(computed.defects) == set(DOCUMENTED)
    assert all(d.injected == d.detected == d.false_detections == 0 for d in computed.defects.values())


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("no ledger", r"ledger\.json: missing"),
        ("ledger as a list", r"ledger\.json: older or unknown format"),
        ("ledger entry without time", r"ledger\.json: entries\.0: expected time"),
        ("no events", r"events: no event files"),
        (
            "events of an older format",
            r"worker-0\.jsonl:1: older or unknown format: Object missing required field `journey`",
        ),
        ("no folder", r"nowhere: no such results folder"),
    ],
)
def test_bad_results_are_one_line_errors(tmp_path: Path, breakage: str, expected: str) -> None:
    results = folder(tmp_path, renewal("j1", 0, [], {}), [])
    if breakage == "no ledger":
        (results / "ledger.json").unlink()
    elif breakage == "ledger as a list":
        (results / "ledger.json").write_text("[]")
    elif breakage == "ledger entry without time":
        (results / "ledger.json").write_text(json.dumps({"entries": [{"fault": "outage"}]}))
    elif breakage == "no events":
        (results / "events" / "worker-0.jsonl").unlink()
    elif breakage == "events of an older format":
        (results / "events" / "worker-0.jsonl").write_text(json.dumps({"kind": "step", "time": 1, "step": "x"}) + "\n")
    else:
        results = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match=expected) as caught:
        score(results)
    assert "\n" not in str(caught.value)


def test_ledger_times_are_read_as_utc(tmp_path: Path) -> None:
    results = folder(tmp_path, renewal("j1", 0, [], {}), [fired("outage", 1.5, None, None, "/api/me")])
    (firing,) = read_ledger(results)
    assert firing.time == pytest.approx(T0 + 1.5)


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps "score" a subcommand
    return app


def test_cli_prints_the_table_and_writes_score_json(tmp_path: Path) -> None:
    events = renewal("j1", 0, ["doc-1", "doc-2"], LOST_DOC)
    results = folder(tmp_path, events, [fired("document_lost", 0.9, ALICE, "doc-2", "sync:dossier.submitted")])
    done = CliRunner().invoke(cli(), ["score", str(results)], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "document_lost" in done.output
    assert "100%" in done.output
    written = json.loads((results / "score.json").read_text())
    assert written["defects"]["document_lost"]["recall"] == 1.0
    assert write_score(results) == results / "score.json"


def test_cli_refuses_a_folder_without_ledger_in_one_line(tmp_path: Path) -> None:
    results = folder(tmp_path, renewal("j1", 0, [], {}), None)
    done = CliRunner().invoke(cli(), ["score", str(results)])
    assert done.exit_code == 2
    assert done.output.strip().startswith("anef-harness: ")
    assert done.output.strip().count("\n") == 0


@pytest.mark.parametrize(
    ("ledger", "expected"),
    [
        ({"entries": [{"time": "hier", "fault": "x", "applicant": None, "object": None, "route": "/"}]}, "entries.0:"),
        ({"entries": [], "draws": {"document_lost": "beaucoup"}}, "draws.document_lost:"),
    ],
    ids=["entry", "draws"],
)
def test_a_bad_ledger_is_one_line_naming_the_file_and_field(
    tmp_path: Path, ledger: dict[str, Any], expected: str
) -> None:
    results = folder(tmp_path, [step("login.submit", 1, journey_id="j1")], [])
    (results / "ledger.json").write_text(json.dumps(ledger), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        score(results)
    message = str(raised.value)
    assert message.startswith(str(results / "ledger.json"))
    assert expected in message
    assert "\n" not in message
