"""Regressions against a baseline campaign: every step's p95 and failure rate, each one check.

Every step a shipped journey declares (and any other step either campaign recorded) gets both
checks, whether or not a baseline was given: a check that cannot be made is kept, skipped, with
its reason. So the gate's JUnit lists the same checks in every run, and a regression shows as a
check that changed state, not as a test that appeared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from checks.summary import RegressionFigures, StepFigures
from scenarios.journeys import known_steps

Measure = Literal["p95_ms", "failure_rate"]
MEASURES: tuple[Measure, ...] = ("p95_ms", "failure_rate")


@dataclass(frozen=True)
class Margins:
    """How much worse than the baseline a step may get before the gate calls it a regression."""

    p95_increase: float = 0.25  # relative: 0.25 = p95 up to 25 % slower
    p95_floor_ms: float = 20.0  # absolute slack, so that a 4 ms → 6 ms step is not a regression
    failure_rate_increase: float = 0.01  # absolute: one point of failure rate

    def limit(self, what: Measure, baseline: float) -> float:
        """The worst value still within the margin of ``baseline``."""
        if what == "p95_ms":
            return baseline * (1 + self.p95_increase) + self.p95_floor_ms
        return baseline + self.failure_rate_increase

    def words(self, what: Measure) -> str:
        if what == "p95_ms":
            return f"+{self.p95_increase:.0%} + {self.p95_floor_ms:g} ms"
        return f"+{self.failure_rate_increase * 100:g} percentage point(s)"


@dataclass(frozen=True)
class RegressionCheck:
    """One step's p95 or failure rate against the baseline: within the margin, regressed, or
    skipped (``skipped`` says why: no baseline, or no attempts of the step on one side)."""

    step: str
    what: Measure
    baseline: float | None = None
    now: float | None = None
    limit: float | None = None
    skipped: str | None = None

    @property
    def name(self) -> str:
        return f"{self.step} {self.what}"

    @property
    def regressed(self) -> bool:
        return self.skipped is None and self.now is not None and self.limit is not None and self.now > self.limit

    def figures(self) -> RegressionFigures:
        return RegressionFigures(
            step=self.step, what=self.what, baseline=round(self.baseline or 0.0, 4), now=round(self.now or 0.0, 4)
        )


def check_regressions(
    now: Mapping[str, StepFigures], before: Mapping[str, StepFigures] | None, margins: Margins
) -> list[RegressionCheck]:
    """Both checks of every step (declared or recorded), in step order; ``before`` None: no baseline."""
    steps = sorted(set(known_steps()) | set(now) | set(before or {}))
    found = []
    for step in steps:
        for what in MEASURES:
            found.append(_check(step, what, now.get(step), before, margins))
    return found


def _check(
    step: str, what: Measure, figures: StepFigures | None, before: Mapping[str, StepFigures] | None, margins: Margins
) -> RegressionCheck:
    if before is None:
        return RegressionCheck(step, what, skipped="no baseline given (--baseline RESULTS): nothing to compare with")
    old = before.get(step)
    if figures is None or not figures.total:
        return RegressionCheck(step, what, skipped=f"no attempts of {step} in this campaign")
    if old is None or not old.total:
        return RegressionCheck(step, what, skipped=f"no attempts of {step} in the baseline")
    then, value = getattr(old, what), getattr(figures, what)
    return RegressionCheck(step, what, baseline=then, now=value, limit=margins.limit(what, then))
