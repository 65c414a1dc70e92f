"""Shift detection against a baseline: a flagged and an unflagged case for latency and for the
failure rate, steps with too few attempts, the common drift, no baseline, Holm, the bounds."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from junitparser import JUnitXml
from typer.testing import CliRunner

from anef_harness.baseline import choose_baseline
from anef_harness.campaign import load_campaign
from anef_harness.cli import app
from checks.evaluate import evaluate
from checks.shift import Baseline, ShiftBounds, look_wait
from checks.shift_stats import holm
from checks.slo import load_slos
from core.errors import ConfigError
from dashboards import history
from scenarios.events import Event
from tests.anef_harness.campaigns import campaign
from tests.checks.test_gate import slo_file
from tests.checks.test_store_and_rights import folder, step

# Steps with the shape of a smoke run's durations on the project machine: most requests in tens
# of milliseconds, a long tail of a few hundred (log-normal, median 60 ms).
STEPS = (
    "login.submit",
    "login.dashboard",
    "renewal.login",
    "renewal.choose_procedure",
    "renewal.create",
    "renewal.upload",
    "renewal.submit",
    "renewal.receipt",
    "password_reset.request",
)


def durations(
    rng: np.random.Generator, n: int, *, slower: float = 1.0, median: float = 60.0, spread: float = 0.9
) -> np.ndarray:
    return np.asarray(rng.lognormal(np.log(median), spread, n) * slower)


def run_events(
    seed: int,
    *,
    count: int = 300,
    steps: Sequence[str] = STEPS,
    slower: float = 1.0,
    quiet: bool = False,
    delayed: tuple[str, float, float] | None = None,
    failing: tuple[str, float] | None = None,
) -> list[Event]:
    """A run's step events; ``delayed`` (step, share, ms) adds ms to that share of a step's
    attempts, ``failing`` (step, share) turns that share of its attempts into 502s; ``quiet``: the
    durations of a machine running nothing else (median 9 ms, most within a few ms of it)."""
    rng = np.random.default_rng(seed)
    events: list[Event] = []
    for name in steps:
        n = 2 * count if name == "renewal.upload" else count  # two documents per renewal
        times = durations(rng, n, slower=slower, median=9.0, spread=0.6) if quiet else durations(rng, n, slower=slower)
        if delayed is not None and delayed[0] == name:
            hit = rng.random(n) < delayed[1]
            times = times + hit * delayed[2]
        failed = rng.random(n) < (failing[1] if failing is not None and failing[0] == name else 0.0)
        for number, (ms, bad) in enumerate(zip(times, failed, strict=True)):
            fields: dict[str, Any] = {"journey_id": f"{name}-{seed}-{number}", "time": 1.0 + number}
            if bad:
                events.append(step(name, "error", float(ms), status=502, message="502", **fields))
            else:
                events.append(step(name, "ok", float(ms), **fields))
    return events


def gate(*args: str | Path) -> Any:
    return CliRunner().invoke(app, ["gate", *map(str, args)])


def judged(tmp_path: Path, now: list[Event], before: list[Event], **bounds: Any) -> Any:
    baseline = folder(tmp_path / "before", before)
    results = folder(tmp_path / "now", now)
    chosen = Baseline(baseline, "given")
    summary = evaluate(
        results, load_slos(slo_file(tmp_path)), shift_baseline=chosen, shift_bounds=ShiftBounds(**bounds)
    )
    return summary.shift


def test_a_delay_on_a_fifth_of_one_steps_attempts_is_flagged_with_its_effect_and_fails_the_gate(tmp_path: Path) -> None:
    before = folder(tmp_path / "before", run_events(1))
    now = folder(tmp_path / "now", run_events(2, delayed=("renewal.upload", 0.2, 150.0)))
    done = gate(now, "--slo", slo_file(tmp_path), "--baseline", before)

    assert done.exit_code == 1, done.output
    assert "verdict: fail" in done.output
    flagged = [line for line in done.output.splitlines() if line.startswith("shift flagged")]
    assert len(flagged) == 1, done.output
    assert flagged[0].startswith("shift flagged (latency): renewal.upload: p75-90 ")
    shift = json.loads((now / "summary.json").read_text())["shift"]
    (check,) = [c for c in shift["checks"] if c["flagged"]]
    assert (check["step"], check["what"]) == ("renewal.upload", "latency")
    assert 30.0 < check["ci_low"] <= check["effect"] <= check["ci_high"]
    assert check["p_holm"] < 0.01
    xml = JUnitXml.fromfile(str(now / "junit.xml"))
    failed = {
        case.name
        for suite in xml
        if suite.name == "shifts"
        for case in suite
        if case.result and case.result[0]._tag == "failure"
    }
    assert failed == {"renewal.upload latency shift"}


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_on_a_quiet_machine_the_delay_is_flagged_with_most_of_its_size(tmp_path: Path, seed: int) -> None:
    # Requests of about 9 ms: a fifth of the uploads 150 ms later sit above all the others. p80,
    # at their edge, is a few ms or 150 ms later depending on the share that happened to be hit,
    # and its interval reaches down to a few ms; the band from p75 to p90 moves by most of the delay.
    now = run_events(seed, quiet=True, delayed=("renewal.upload", 0.2, 150.0))
    report = judged(tmp_path, now, run_events(seed + 10, quiet=True))
    (flagged,) = report.flagged
    assert (flagged.step, flagged.what) == ("renewal.upload", "latency")
    assert flagged.low > 60


def test_two_runs_without_faults_are_not_flagged_nor_is_a_whole_run_slowed_by_its_machine(tmp_path: Path) -> None:
    alike = judged(tmp_path / "alike", run_events(3), run_events(4))
    assert alike.flagged == []
    assert len(alike.tested) == 2 * len(STEPS)
    # Every step 60 % slower, as on the project machine while other test suites ran: the machine,
    # not a step; reported as the common drift, not flagged.
    loaded = judged(tmp_path / "loaded", run_events(5, slower=1.6), run_events(6))
    assert loaded.flagged == []
    assert 1.4 < loaded.drift < 1.8
    assert "common drift x1." in loaded.headline()


def test_a_step_failing_more_often_is_flagged_and_a_handful_of_failures_is_not(tmp_path: Path) -> None:
    many = judged(tmp_path / "many", run_events(7, failing=("login.submit", 0.08)), run_events(8))
    (flagged,) = many.flagged
    assert (flagged.step, flagged.what) == ("login.submit", "failure_rate")
    assert flagged.line(many.bounds).startswith("login.submit: failure rate 0.00% → ")
    assert flagged.low > 0.01
    few = judged(tmp_path / "few", run_events(9, failing=("login.submit", 0.01)), run_events(10))
    assert few.flagged == []
    (rate,) = [c for c in few.checks if c.step == "login.submit" and c.what == "failure_rate"]
    assert rate.skipped is None
    assert rate.now > 0  # failures seen, but below the bound of one point


def test_a_step_with_too_few_attempts_is_not_tested_and_says_why(tmp_path: Path) -> None:
    report = judged(tmp_path, run_events(11, count=30, delayed=("login.submit", 0.5, 400.0)), run_events(12, count=30))
    assert report.flagged == []
    (check,) = [c for c in report.checks if c.step == "login.submit" and c.what == "latency"]
    assert check.skipped == "not tested (n < 50): 30 ok attempt(s) now, 30 in the baseline"


def test_without_a_baseline_the_gate_says_so_in_one_line_and_passes(tmp_path: Path) -> None:
    results = folder(tmp_path / "r", run_events(13))
    done = gate(results, "--slo", slo_file(tmp_path))
    assert done.exit_code == 0, done.output
    [line] = [line for line in done.output.splitlines() if line.startswith("shift:")]
    assert line.startswith("shift: no baseline: no earlier complete run of test")
    assert line.endswith("shift detection skipped")


def test_the_history_gives_the_last_comparable_complete_run(tmp_path: Path) -> None:
    first = folder(tmp_path / "first", run_events(14))
    now = folder(tmp_path / "now", run_events(15))
    assert choose_baseline(now, None).folder is None
    assert gate(first, "--slo", slo_file(tmp_path)).exit_code == 0
    history.record(tmp_path, first)
    chosen = choose_baseline(now, None)
    assert chosen.folder == first
    assert chosen.origin.startswith("the history's last comparable run of test")
    assert choose_baseline(now, tmp_path / "elsewhere").origin == "given with --baseline"


def test_holm_adjusts_as_r_p_adjust_does() -> None:
    # p.adjust(c(0.01, 0.04, 0.03, 0.005), method = "holm") in R
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([]) == []


def test_the_campaign_files_shift_bounds_are_validated_in_one_line(tmp_path: Path) -> None:
    good = load_campaign(campaign(tmp_path, name="good", shift={"min_latency_shift_ms": 80, "alpha": 0.05}))
    assert (good.shift.min_latency_shift_ms, good.shift.alpha, good.shift.band) == (80.0, 0.05, (0.75, 0.9))
    with pytest.raises(ConfigError) as refused:
        load_campaign(campaign(tmp_path, name="bad", shift={"alpha": 2}))
    message = str(refused.value)
    assert "\n" not in message
    assert "bad.yaml:" in message
    assert "shift.alpha" in message
    with pytest.raises(ConfigError) as unknown:
        load_campaign(campaign(tmp_path, name="typo", shift={"min_latency_shift": 80}))
    assert "min_latency_shift_ms" in str(unknown.value)  # did you mean


# --- watches: an effect seen at the next look, not a request --------------------------------


def looked(rng: np.random.Generator, delivery: np.ndarray, poll: float = 0.25) -> np.ndarray:
    """Watch durations: each effect, arrived after ``delivery`` ms, is seen at the first look
    after it (at 0, 250, 625, 1,187 ms…, as the journeys' runner looks), plus the look's request."""
    looks = np.cumsum([0.0] + [min(poll * 1000 * 1.5**k, 2000.0) for k in range(40)])
    seen = looks[np.searchsorted(looks, delivery)]
    return np.asarray(seen + rng.lognormal(np.log(20.0), 0.5, len(delivery)))


def mail_events(seed: int, *, delivery_ms: float, extra_ms: float = 0.0, count: int = 120) -> list[Event]:
    """A run's requests (``run_events``) and its reset e-mails' watch, the e-mails delivered after
    ``delivery_ms`` (median) plus ``extra_ms``."""
    rng = np.random.default_rng(seed + 1000)
    delivery = rng.lognormal(np.log(delivery_ms), 0.6, count) + extra_ms
    times = looked(rng, delivery)
    watched = [
        step("password_reset.email", "ok", float(ms), journey_id=f"mail-{seed}-{n}", time=1.0 + n)
        for n, ms in enumerate(times)
    ]
    return run_events(seed) + watched


def test_the_looks_of_a_watch_wait_as_the_journeys_runner_waits() -> None:
    assert [look_wait(at, 0.25) for at in (0, 249, 250, 624, 625, 1187.5, 60_000)] == [
        250.0,
        250.0,
        375.0,
        375.0,
        562.5,
        843.75,
        2000.0,
    ]
    assert look_wait(0, 1.0) == 1000.0


def test_a_watch_seen_one_look_later_is_not_flagged_and_one_seconds_later_is(tmp_path: Path) -> None:
    # The mail sender slowed by a busy machine (e-mails delivered after ~300 ms instead of ~120):
    # many are seen one look later, the watch's p80 moves by hundreds of ms while the requests
    # do not move at all. Within a watch's resolution: not flagged, and the drift stays at 1.
    slowed = judged(tmp_path / "slowed", mail_events(21, delivery_ms=300), mail_events(22, delivery_ms=120))
    (email,) = [c for c in slowed.checks if c.step == "password_reset.email" and c.what == "latency"]
    assert email.p_holm < 0.01  # significant
    assert email.low > 30  # and beyond the requests' bound
    assert email.low <= email.bound  # but not beyond the wait after the baseline's look
    assert slowed.flagged == []
    assert slowed.drift == pytest.approx(1.0, abs=0.15)
    # E-mails held back a second and a half (the email_delay fault's kind): several looks later.
    held = judged(tmp_path / "held", mail_events(23, delivery_ms=120, extra_ms=1500), mail_events(24, delivery_ms=120))
    (flagged,) = held.flagged
    assert (flagged.step, flagged.what) == ("password_reset.email", "latency")
    assert flagged.low > flagged.bound > 30


def test_the_common_drift_is_measured_on_the_steps_that_act(tmp_path: Path) -> None:
    # Three requests and four watches, the watches three times slower (a busy machine's background
    # workers), the requests not: the drift is the requests', not the median of all seven steps
    # (which would be a watch's), and a 150 ms delay on a fifth of the uploads is still flagged.
    acting = ("login.submit", "renewal.submit", "renewal.upload")
    watches = ("password_reset.email", "renewal.reconcile", "upload.reconcile", "card_handover.visible")
    now = run_events(25, steps=acting, delayed=("renewal.upload", 0.2, 150.0))
    now += run_events(26, steps=watches, slower=3.0)
    before = run_events(27, steps=acting + watches)
    report = judged(tmp_path, now, before)
    assert report.drift == pytest.approx(1.0, abs=0.15)
    assert {(c.step, c.what) for c in report.flagged} == {("renewal.upload", "latency")}
