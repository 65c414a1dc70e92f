"""Shift detection against a baseline campaign: has a step become slower, or does it fail more often?

Generic faults (a 150 ms delay on a fifth of one route's responses, a few 502s) break no
documented rule and often no SLO; they show as a change of distribution against a run that was
known good. For every step (protocol and agent channels; browser page loads measure the browser
too) two one-sided tests (``checks.shift_stats``): **latency**, the shift of the upper band of the
``ok`` durations (p75 to p90 by default) and Mood's quantile test at its middle; **failure rate**,
the difference of the rates and Fisher's exact test.

The p-values of every test made are adjusted together by Holm's step-down method, so the
family-wise false-alarm rate over all steps is at most ``alpha``. A step is flagged only when its
adjusted p-value is below ``alpha`` *and* its interval's lower end exceeds the configured bound:
on a shared machine fault-free latency drifts between runs, significantly so with hundreds of
samples, and only a shift that matters to an applicant fails the gate (docs/judgement.md).
A step with fewer than ``min_samples`` on either side is not tested, with its reason. This module
reads the samples, makes the checks and reports them; the statistics live in ``shift_stats``.

Watches (``.email``, ``.reconcile``, ``.visible``) time an effect, not a request: they look across
the seam at 0, 250, 625, 1,187 ms… (``journey_settings.poll_interval``, each wait half again as
long, up to 2 s), so an effect that arrives a few ms later than the look that saw it in the
baseline is seen a whole wait later. Their latency is flagged only beyond that wait at the
baseline's quantile (one look later is within a watch's resolution), and the common drift is
measured on the steps that act, whose durations are requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from checks.shift_stats import band_mean, band_shift_interval, common_drift, holm, quantile_test, rate_shift
from checks.store import Results
from checks.summary import ShiftCheckFigures, ShiftFigures
from core.describe import describe
from core.errors import ConfigError
from scenarios.campaign_file import read_yaml
from scenarios.journeys import known_steps, watch_kind
from scenarios.journeys.runner import JourneySettings

Measure = Literal["latency", "failure_rate"]
MEASURES: tuple[Measure, ...] = ("latency", "failure_rate")
# Per step and side, the ok durations tested (chosen by a hash of the attempt, so the same folders
# always give the same verdict): beyond them the test has all the power it needs.
MAX_TESTED = 20_000
# How a watch's wait between two looks grows, as ``scenarios.journeys.runner.Run.watch`` does.
LOOK_GROWTH = 1.5
LOOK_CAP_MS = 2_000.0


class ShiftBounds(BaseModel):
    """The campaign file's ``shift`` section: when a shift against the baseline fails the gate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alpha: float = Field(0.01, gt=0, lt=0.5, description="family-wise false-alarm rate over every step tested (Holm)")
    band: tuple[float, float] = Field(
        (0.75, 0.9), description="the latency effect is the mean shift of the quantiles from the first to the second"
    )
    min_latency_shift_ms: float = Field(
        30.0, ge=0, description="flag a slower step only when the interval's lower end exceeds this many ms"
    )
    min_failure_rate_shift: float = Field(
        0.01, ge=0, le=1, description="flag more failures only when the interval's lower end exceeds this difference"
    )
    confidence: float = Field(0.95, gt=0.5, lt=1, description="the confidence level of the effect's interval")
    min_samples: int = Field(50, ge=10, description="steps with fewer attempts on either side are not tested")

    @model_validator(mode="after")
    def _ordered(self) -> ShiftBounds:
        low, high = self.band
        if not 0 < low < high < 1:
            raise ValueError(f"band: two quantiles with 0 < first < second < 1, got {list(self.band)}")
        return self

    @property
    def band_name(self) -> str:
        low, high = self.band
        return f"p{low * 100:g}-{high * 100:g}"

    def quantiles(self) -> NDArray[np.float64]:
        """The band's quantiles, every 2.5 points from its first to its last (at least three)."""
        low, high = self.band
        return np.linspace(low, high, max(3, round((high - low) / 0.025) + 1))

    def words(self, what: Measure) -> str:
        if what == "latency":
            return f"{self.band_name} shift above +{self.min_latency_shift_ms:g} ms"
        return f"failure rate above +{self.min_failure_rate_shift * 100:g} point(s)"


@dataclass(frozen=True)
class Baseline:
    """The run compared with: a results folder and how it was chosen, or why there is none."""

    folder: Path | None = None
    origin: str = ""  # "given with --baseline", "the history's last comparable run (…)"
    absent: str = "no baseline: none given (--baseline RESULTS) and none found in the history"


@dataclass(frozen=True)
class StepSample:
    """What the tests need of one step on one side: ok durations (hash-ordered) and failures."""

    durations: NDArray[np.float64]
    failures: int
    total: int


@dataclass(frozen=True)
class ShiftCheck:
    """One step's latency or failure rate against the baseline: tested (flagged or not) or not tested."""

    step: str
    what: Measure
    n_now: int = 0
    n_before: int = 0
    now: float = 0.0  # the band's mean quantile (ms) or the failure rate of this run
    before: float = 0.0
    low: float = 0.0  # the effect's interval
    high: float = 0.0
    p: float = 1.0  # one-sided, before adjustment
    p_holm: float = 1.0
    bound: float = 0.0  # flagged only when ``low`` exceeds it (a watch's: at least one look's wait)
    flagged: bool = False
    skipped: str | None = None

    @property
    def name(self) -> str:
        return f"{self.step} {self.what} shift"

    @property
    def effect(self) -> float:
        return self.now - self.before

    def line(self, bounds: ShiftBounds) -> str:
        """The finding in one line, with its effect, interval, p-value and samples."""
        level = f"{bounds.confidence:.0%}"
        if self.what == "latency":
            q = bounds.band_name
            shift = (
                f"{q} {self.before:.0f} → {self.now:.0f} ms ({self.effect:+.0f} ms, {level} CI "
                f"{self.low:+.0f} to {self.high:+.0f} ms)"
            )
        else:
            shift = (
                f"failure rate {self.before:.2%} → {self.now:.2%} ({self.effect * 100:+.2f} points, {level} CI "
                f"{self.low * 100:+.2f} to {self.high * 100:+.2f})"
            )
        return f"{self.step}: {shift}, p = {self.p_holm:.2g} (Holm), n = {self.n_now} vs {self.n_before}"

    def figures(self) -> ShiftCheckFigures:
        return ShiftCheckFigures(
            step=self.step,
            what=self.what,
            flagged=self.flagged,
            skipped=self.skipped,
            n_now=self.n_now,
            n_baseline=self.n_before,
            now=round(self.now, 6),
            baseline=round(self.before, 6),
            effect=round(self.effect, 6),
            ci_low=round(self.low, 6),
            ci_high=round(self.high, 6),
            p=float(f"{self.p:.4g}"),
            p_holm=float(f"{self.p_holm:.4g}"),
            bound=round(self.bound, 6),
        )


@dataclass(frozen=True)
class ShiftReport:
    """Every step's two checks against one baseline (all not tested when there is none)."""

    baseline: Baseline = field(default_factory=Baseline)
    bounds: ShiftBounds = field(default_factory=ShiftBounds)
    checks: list[ShiftCheck] = field(default_factory=list)
    drift: float = 1.0  # the acting steps' slowdown against the baseline, factored out of latency

    @property
    def flagged(self) -> list[ShiftCheck]:
        return [check for check in self.checks if check.flagged]

    @property
    def tested(self) -> list[ShiftCheck]:
        return [check for check in self.checks if check.skipped is None]

    def headline(self) -> str:
        """One line: against what, how many steps tested, how many flagged."""
        if self.baseline.folder is None:
            return f"{self.baseline.absent}; shift detection skipped"
        untested = len(self.checks) - len(self.tested)
        return (
            f"baseline {self.baseline.folder} ({self.baseline.origin}): common drift x{self.drift:.2f} "
            f"(the acting steps' median slowdown of their {self.bounds.band_name}, factored out), "
            f"{len(self.tested)} check(s) made, "
            f"{untested} not tested, {len(self.flagged)} shift(s) flagged "
            f"(family-wise alpha {self.bounds.alpha:g}; bounds: {self.bounds.words('latency')}, "
            f"{self.bounds.words('failure_rate')})"
        )

    def figures(self) -> ShiftFigures:
        return ShiftFigures(
            baseline=str(self.baseline.folder) if self.baseline.folder is not None else None,
            origin=self.baseline.origin if self.baseline.folder is not None else self.baseline.absent,
            bounds=self.bounds.model_dump(mode="json"),
            drift=round(self.drift, 4),
            checks=[check.figures() for check in self.checks],
        )


# --- reading ---------------------------------------------------------------------------------

_DURATIONS = f"""
    SELECT step, list(duration_ms ORDER BY k) FROM (
        SELECT step, duration_ms,
            row_number() OVER (PARTITION BY step ORDER BY hash(jid, attempt, seq, time)) AS k
        FROM steps WHERE outcome = 'ok' AND channel <> 'browser' AND duration_ms IS NOT NULL
    ) WHERE k <= {MAX_TESTED} GROUP BY step
"""  # noqa: S608 - built from constants only
_FAILURES = (
    "SELECT step, count(*) FILTER (WHERE outcome <> 'ok'), count(*) FROM steps WHERE channel <> 'browser' GROUP BY step"
)


def read_samples(results: Results) -> dict[str, StepSample]:
    """Per step, what the shift tests need of a results folder (browser attempts left out)."""
    durations = {step: np.asarray(values, dtype=np.float64) for step, values in results.rows(_DURATIONS)}
    empty = np.empty(0, dtype=np.float64)
    return {
        step: StepSample(durations.get(step, empty), int(failures), int(total))
        for step, failures, total in results.rows(_FAILURES)
    }


def baseline_samples(folder: Path) -> dict[str, StepSample]:
    with Results(folder) as results:
        return read_samples(results)


def poll_interval_of(folder: Path) -> float:
    """The seconds a watch of that run first waited between two looks (``journey_settings.poll_interval``)."""
    path = folder / "campaign.yaml"
    section = (read_yaml(path).get("journey_settings") or {}) if path.is_file() else {}
    try:
        return JourneySettings.model_validate(section).poll_interval
    except ValidationError as exc:
        raise ConfigError(str(path), f"journey_settings.{describe(exc, JourneySettings)}") from None


def look_wait(at_ms: float, poll_interval: float) -> float:
    """A watch's wait (ms) after the last look it made by ``at_ms``: the looks are at 0, then after
    ``poll_interval`` seconds, each wait half again as long as the one before, up to 2 s."""
    seen, wait = 0.0, poll_interval * 1000.0
    while seen + wait <= at_ms:
        seen += wait
        wait = min(wait * LOOK_GROWTH, LOOK_CAP_MS)
    return wait


def bounds_of(folder: Path) -> ShiftBounds:
    """The ``shift`` section of the campaign a results folder kept (defaults when it has none)."""
    path = folder / "campaign.yaml"
    if not path.is_file():
        return ShiftBounds()
    section = read_yaml(path).get("shift") or {}
    try:
        return ShiftBounds.model_validate(section)
    except ValidationError as exc:
        raise ConfigError(str(path), f"shift.{describe(exc, ShiftBounds)}") from None


# --- testing ---------------------------------------------------------------------------------


def check_shifts(
    now: Mapping[str, StepSample],
    before: Mapping[str, StepSample] | None,
    bounds: ShiftBounds,
    baseline: Baseline,
    poll_interval: float = JourneySettings().poll_interval,
) -> ShiftReport:
    """Both checks of every step (declared or recorded), Holm-adjusted together, in step order;
    ``poll_interval``: the first wait between a watch's looks in the baseline (seconds)."""
    steps = sorted(set(known_steps()) | set(now) | set(before or {}))
    if before is None:
        why = f"not tested: {baseline.absent}"
        checks = [ShiftCheck(step, what, skipped=why) for step in steps for what in MEASURES]
        return ShiftReport(baseline, bounds, checks)
    drift = run_drift(now, before, bounds)
    made = [_check(step, what, now.get(step), before.get(step), bounds, drift) for step in steps for what in MEASURES]
    adjusted = iter(holm([check.p for check in made if check.skipped is None]))
    checks = []
    for check in made:
        if check.skipped is None:
            p_holm = next(adjusted)
            bound = _bound(check, bounds, poll_interval)
            check = replace(check, p_holm=p_holm, bound=bound, flagged=p_holm < bounds.alpha and check.low > bound)
        checks.append(check)
    return ShiftReport(baseline, bounds, checks, drift)


def _bound(check: ShiftCheck, bounds: ShiftBounds, poll_interval: float) -> float:
    """What the effect's interval must exceed: the campaign's bound, and for a watch's latency at
    least the wait after the look that saw the baseline's band."""
    if check.what == "failure_rate":
        return bounds.min_failure_rate_shift
    if watch_kind(check.step) is None:
        return bounds.min_latency_shift_ms
    return max(bounds.min_latency_shift_ms, look_wait(check.before, poll_interval))


def run_drift(now: Mapping[str, StepSample], before: Mapping[str, StepSample], bounds: ShiftBounds) -> float:
    """How much slower the whole run is than its baseline (``shift_stats.common_drift``), measured
    on the acting steps. Latency is tested against the baseline slowed by this factor, so a step
    is flagged for what it does beyond the rest of the run.

    Watches are left out: they wait between looks and on the platform's background workers (the
    mail sender, the sync bridge), which slow down with the machine in steps of a look's wait, not
    in proportion with requests; and a watch does not speed up with a quieter machine (its waits
    stay), so its baseline is never scaled below 1 (``_check``). Requests do speed up: a run on a
    quieter machine than its baseline's is tested against a baseline made faster, or a delay would
    hide in the machine's calm."""
    acting = [step for step in set(now) & set(before) if watch_kind(step) is None]
    return common_drift(
        {step: now[step].durations for step in acting},
        {step: before[step].durations for step in acting},
        bounds.quantiles(),
        bounds.min_samples,
    )


def _check(
    step: str, what: Measure, now: StepSample | None, before: StepSample | None, bounds: ShiftBounds, drift: float
) -> ShiftCheck:
    if what == "latency":
        n_now = 0 if now is None else len(now.durations)
        n_before = 0 if before is None else len(before.durations)
        counted = "ok attempt(s)"
    else:
        n_now = 0 if now is None else now.total
        n_before = 0 if before is None else before.total
        counted = "attempt(s)"
    if min(n_now, n_before) < bounds.min_samples:
        why = f"not tested (n < {bounds.min_samples}): {n_now} {counted} now, {n_before} in the baseline"
        return ShiftCheck(step, what, n_now, n_before, skipped=why)
    assert now is not None  # both sides have samples
    assert before is not None
    if what == "latency":
        scale = drift if watch_kind(step) is None else max(1.0, drift)  # see run_drift
        return latency_shift(step, now.durations, before.durations * scale, bounds)
    return failure_shift(step, (now.failures, now.total), (before.failures, before.total), bounds)


def latency_shift(step: str, now: NDArray[np.float64], before: NDArray[np.float64], bounds: ShiftBounds) -> ShiftCheck:
    """The quantile test (more attempts above the pooled quantile at the band's middle now) and the
    band's shift with its bootstrap interval (seeded by the step's name)."""
    q = bounds.quantiles()
    p = quantile_test(now, before, sum(bounds.band) / 2)
    low, high = band_shift_interval(now, before, q, bounds.confidence, seed=step)
    now_band, before_band = band_mean(now, q), band_mean(before, q)
    return ShiftCheck(step, "latency", len(now), len(before), now_band, before_band, low, high, p)


def failure_shift(step: str, now: tuple[int, int], before: tuple[int, int], bounds: ShiftBounds) -> ShiftCheck:
    """Fisher's exact test (more failures now) and the difference of rates with Newcombe's interval."""
    p, low, high = rate_shift(now, before, bounds.confidence)
    (k1, n1), (k2, n2) = now, before
    return ShiftCheck(step, "failure_rate", n1, n2, now=k1 / n1, before=k2 / n2, low=low, high=high, p=p)


def shift_against(now: Mapping[str, StepSample], baseline: Baseline, bounds: ShiftBounds) -> ShiftReport:
    """This run's samples against the baseline's events (read here); a baseline folder that kept
    no events (only its summary.json) cannot be tested against, and the report says so."""
    folder = baseline.folder
    if folder is not None and not (folder / "events").is_dir():
        baseline = Baseline(absent=f"the baseline {folder} keeps no events/ (shifts are tested on attempts)")
    if baseline.folder is None:
        return check_shifts(now, None, bounds, baseline)
    return check_shifts(now, baseline_samples(baseline.folder), bounds, baseline, poll_interval_of(baseline.folder))
