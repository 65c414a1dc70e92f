"""Results folders read for judgement: figures, funnel, rights at risk, bad folders."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from checks.evaluate import funnel, step_figures
from checks.rights import FILING_CLOSES_DAYS, rights_at_risk
from checks.store import Results
from core.errors import ConfigError
from scenarios.events import Event, JourneyEvent, JourneyOutcome, Outcome, StepEvent, encode
from scenarios.manifest import RESULTS_FORMAT, new_manifest
from synthetic_users.population import Population
from synthetic_users.spec import build_spec

TODAY = date(2026, 11, 26)
SPEC = build_spec("test", {"size": 400, "seed": 5, "reference_date": TODAY.isoformat()})
POPULATION = Population(SPEC)


def step(name: str, outcome: str = "ok", duration: float = 10.0, **fields: Any) -> StepEvent:
    """A step event; ``fields`` override the defaults (time, journey_id, applicant…)."""
    defaults: dict[str, Any] = {"time": 1.0, "journey_id": "j", "worker": "worker-0", "applicant": 0}
    return StepEvent(
        journey=name.split(".")[0], step=name, outcome=Outcome(outcome), duration_ms=duration, **(defaults | fields)
    )


def journey(
    name: str, journey_id: str, applicant: int, outcome: str, time: float, failed: str | None = None
) -> JourneyEvent:
    return JourneyEvent(
        time=time,
        journey=name,
        journey_id=journey_id,
        outcome=JourneyOutcome(outcome),
        duration_ms=100.0,
        worker="worker-0",
        applicant=applicant,
        failed_step=failed,
    )


def folder(tmp_path: Path, events: Sequence[Event], *, status: str = "complete", torn: bool = False) -> Path:
    (tmp_path / "events").mkdir(parents=True)
    manifest = new_manifest(campaign="test", status=status)
    (tmp_path / "manifest.json").write_text(manifest.json_text())
    text = b"".join(encode(e) for e in events)
    if torn:
        text += b'{"kind": "step", "time": 2.0, "step": "login.su'  # a process killed mid-write
    (tmp_path / "events" / "worker-0.jsonl").write_bytes(text)
    return tmp_path


def test_step_figures_have_exact_percentiles_and_outcome_counts(tmp_path: Path) -> None:
    events = [step("login.submit", duration=float(d)) for d in range(1, 101)]
    events += [step("login.submit", "blocked", 5.0, message="refused"), step("login.dashboard")]
    with Results(folder(tmp_path, events, torn=True)) as results:
        figures = step_figures(results)
    login = figures["login.submit"]
    assert login.total == 101
    assert login.outcomes["ok"] == 100
    assert login.outcomes["blocked"] == 1
    assert login.failure_rate == pytest.approx(1 / 101, rel=1e-4)
    assert login.p50_ms == pytest.approx(50.0)  # 1..100 and 5: the median is 50
    assert login.max_ms == 100.0
    assert figures["login.dashboard"].total == 1


def test_funnel_shows_where_journeys_first_failed(tmp_path: Path) -> None:
    events = [
        step("renewal.login", journey_id="a"),
        step("renewal.choose_procedure", journey_id="a"),
        step("renewal.create", "blocked", journey_id="a"),
        journey("renewal", "a", 1, "failed", 1.0, "renewal.create"),
        step("renewal.login", journey_id="b"),
        journey("renewal", "b", 2, "abandoned", 1.0),
    ]
    with Results(folder(tmp_path, events)) as results:
        found = funnel(results)["renewal"]
    assert found.total == 2
    assert found.outcomes == {"failed": 1, "abandoned": 1}
    assert list(found.reached) == ["renewal.login", "renewal.choose_procedure", "renewal.create"]
    assert found.reached["renewal.login"] == 2
    assert found.failed_at == {"renewal.create": 1}


def applicant_where(test: Callable[[int], bool]) -> int:
    return next(i for i in range(len(POPULATION)) if test(i))


def days_left(index: int) -> int:
    closes = POPULATION.applicant(index).card.valid_until - timedelta(days=FILING_CLOSES_DAYS)
    return (closes - TODAY).days


def test_rights_at_risk_counts_failed_renewals_that_cannot_be_filed_again_in_time(tmp_path: Path) -> None:
    soon = applicant_where(lambda i: 0 <= days_left(i) < 20)
    later = applicant_where(lambda i: days_left(i) > 200)
    recovered = applicant_where(lambda i: i not in (soon, later) and 0 <= days_left(i) < 20)
    events = [
        step("renewal.create", "blocked", applicant=soon, journey_id="s", message="Une demande est déjà en cours"),
        journey("renewal", "s", soon, "failed", 1.0, "renewal.create"),
        step("renewal.reconcile", "lost", applicant=later, journey_id="l"),
        journey("renewal", "l", later, "failed", 1.0, "renewal.reconcile"),
        journey("renewal", "r1", recovered, "failed", 1.0, "renewal.create"),
        journey("renewal", "r2", recovered, "ok", 2.0),  # a later attempt succeeded
    ]
    with Results(folder(tmp_path, events)) as results:
        found = rights_at_risk(results, SPEC, horizon_days=30)
    assert found.failed_renewals == 2
    assert found.count == 1
    (at_risk,) = found.applicants
    assert at_risk.applicant == soon
    assert at_risk.failed_step == "renewal.create"
    assert at_risk.outcome == "blocked"
    assert "déjà en cours" in at_risk.message
    assert at_risk.days_left_to_file == days_left(soon)
    assert found.figures().projection.startswith("synthetic applicants")


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (lambda p: None, "no such results folder"),
        (lambda p: p.mkdir(), "manifest.json is missing"),
        (lambda p: (p.mkdir(), (p / "manifest.json").write_text("{oops")), "not readable JSON"),
        (lambda p: (p.mkdir(), (p / "manifest.json").write_text('{"status": "complete"}')), "results format None"),
        (
            lambda p: (p.mkdir(), (p / "manifest.json").write_text(json.dumps({"format": RESULTS_FORMAT}))),
            "events/ is missing",
        ),
    ],
    ids=["missing", "no-manifest", "bad-json", "older-format", "no-events"],
)
def test_a_bad_results_folder_is_one_line_naming_it(
    tmp_path: Path, prepare: Callable[[Path], object], expected: str
) -> None:
    target = tmp_path / "results"
    prepare(target)
    with pytest.raises(ConfigError) as raised:
        Results(target)
    assert expected in str(raised.value)
    assert str(target) in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_partial_run_is_still_read_and_says_so(tmp_path: Path) -> None:
    with Results(folder(tmp_path, [step("login.submit")], status="interrupted")) as results:
        assert results.partial
        assert step_figures(results)["login.submit"].total == 1
