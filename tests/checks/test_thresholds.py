"""k6-style thresholds (``checks.thresholds``): each expression becomes an Objective judged like the
SLO file's; a bad expression is refused with what was expected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checks.evaluate import evaluate
from checks.thresholds import ThresholdError, parse_threshold, parse_thresholds
from scenarios.journeys import known_steps
from tests.checks.test_store_and_rights import folder, step


def test_a_percentile_threshold_is_a_share_of_attempts_within_the_duration() -> None:
    objective = parse_threshold("renewal.submit:p95<800ms")

    assert objective.name == "threshold-renewal-submit-p95"
    assert objective.display_name == "--threshold renewal.submit:p95<800ms"
    assert objective.target == pytest.approx(0.95)
    assert objective.total.steps == {"renewal.submit"}
    assert objective.good.steps == {"renewal.submit"}
    assert objective.good.max_duration_ms == 800
    assert objective.good.outcomes is None  # durations of every attempt, as the table's p95 column


def test_a_failure_threshold_is_a_share_of_ok_attempts() -> None:
    objective = parse_threshold("login.submit:fail<1%")

    assert objective.name == "threshold-login-submit-fail"
    assert objective.target == pytest.approx(0.99)
    assert objective.good.outcomes == {"ok"}
    assert objective.good.max_duration_ms is None


@pytest.mark.parametrize(
    ("text", "target", "max_ms"),
    [
        ("renewal:p99<=1.5s", 0.99, 1500.0),
        (" login.submit : p99.9 < 2s ", 0.999, 2000.0),
        ("*:fail<0.05", 0.95, None),
        ("upload:fail<=2.5%", 0.975, None),
    ],
)
def test_other_valid_forms(text: str, target: float, max_ms: float | None) -> None:
    objective = parse_threshold(text)
    assert objective.target == pytest.approx(target)
    assert objective.good.max_duration_ms == max_ms


def test_a_journey_or_star_stands_for_its_steps() -> None:
    renewal = {name for name, definition in known_steps().items() if definition.name == "renewal"}
    assert parse_threshold("renewal:p95<1s").total.steps == renewal
    assert parse_threshold("*:fail<1%").total.steps == set(known_steps())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("renewal.submit", "expected STEP:pNN<DURATION (renewal.submit:p95<800ms) or STEP:fail<RATE"),
        ("renewal.submit:p95>800ms", "expected STEP:pNN<DURATION"),
        ("renewal.submt:p95<800ms", "unknown step 'renewal.submt'; did you mean 'renewal.submit'?"),
        ("renewal.submit:avg<800ms", "expected the metric pNN (p95, p99…) or fail, got 'avg'"),
        ("renewal.submit:p95<800", "expected a duration such as 800ms or 1.5s, got '800'"),
        ("renewal.submit:p95<0ms", "expected a duration above 0"),
        ("renewal.submit:p0<1s", "expected a percentile from p1 to p99.9, got p0"),
        ("login.submit:fail<1 %", "expected STEP:pNN<DURATION"),
        ("login.submit:fail<120%", "expected a failure rate above 0 and below 100%, got '120%'"),
        ("login.submit:fail<lots", "expected a failure rate such as 1% or 0.01, got 'lots'"),
    ],
)
def test_a_bad_expression_says_what_was_expected(text: str, expected: str) -> None:
    with pytest.raises(ThresholdError) as raised:
        parse_threshold(text)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_same_step_and_metric_twice_is_refused() -> None:
    with pytest.raises(ThresholdError, match=re.escape("the same step and metric as 'login.submit:fail<1%'")):
        parse_thresholds(["login.submit:fail<1%", "login.submit:fail<=2%"])
    assert len(parse_thresholds(["login.submit:fail<1%", "login.submit:p95<1s"])) == 2


def test_thresholds_are_judged_like_slos(tmp_path: Path) -> None:
    events = [step("login.submit", duration=float(d)) for d in range(1, 100)]  # 1..99 ms, all ok
    events += [step("login.submit", "error", 500.0, status=500, message="500")]  # 1 % failed, slow
    results = folder(tmp_path, events)
    thresholds = parse_thresholds(
        ["login.submit:p95<100ms", "login.submit:p50<50ms", "login.submit:p90<50ms", "login.submit:fail<1%"]
    )

    summary = evaluate(results, thresholds)

    judged = {slo.name: (slo.met, slo.good, slo.total) for slo in summary.slos}
    assert judged == {
        "threshold-login-submit-p95": (True, 99, 100),
        "threshold-login-submit-p50": (True, 50, 100),  # exactly at its target: met
        "threshold-login-submit-p90": (False, 50, 100),
        "threshold-login-submit-fail": (True, 99, 100),  # 1 % failed: at most 1 %
    }
    assert summary.verdict == "fail"
