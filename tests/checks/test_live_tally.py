"""The live figures of a run hold in bounded memory, within the sketch's stated error."""

from __future__ import annotations

import tracemalloc

import numpy as np

from checks.results import SKETCH_ACCURACY, Tally
from scenarios.events import Outcome, StepEvent


def events(durations: np.ndarray) -> list[StepEvent]:
    return [
        StepEvent(
            journey="renewal",
            step="renewal.upload",
            outcome=Outcome.OK,
            duration_ms=float(d),
            time=1.0,
            journey_id="j",
            worker="worker-0",
            applicant=0,
        )
        for d in durations
    ]


def test_live_percentiles_hold_in_bounded_memory() -> None:
    durations = np.random.default_rng(7).lognormal(mean=5, sigma=1, size=120_000)
    first, rest = events(durations[:10_000]), events(durations[10_000:])
    tally = Tally()
    tracemalloc.start()
    tally.extend(first)
    after_first = tracemalloc.get_traced_memory()[0]
    tally.extend(rest)
    after_all = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    # 110,000 more durations kept one by one would take over 800 KB; the sketch barely grows.
    assert after_all - after_first < 100_000, after_all - after_first
    figures = tally.step("renewal.upload")
    assert figures.total == 120_000
    exact = np.percentile(durations, [50, 95, 99])
    for live, truth in zip((figures.p50_ms, figures.p95_ms, figures.p99_ms), exact, strict=True):
        assert abs(live - truth) <= 2 * SKETCH_ACCURACY * truth, (live, truth)
    assert figures.max_ms == round(float(durations.max()), 3)
