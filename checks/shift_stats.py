"""The statistics of shift detection (``checks.shift``), on plain arrays and counts; scipy's tests.

- **latency**: the effect is the shift of the upper band of the step's ``ok`` durations, p75 to p90
  by default: the mean of the shifts of its quantiles (p75, p77.5, … p90), with a percentile
  bootstrap confidence interval (``scipy.stats.bootstrap``). A delay on a fifth of the requests
  moves that band and leaves the rest; a single quantile at the edge of the delayed fifth (p80)
  jumps between the undelayed tail and the delayed requests with the share that happened to be
  hit, so on a quiet machine its interval reaches down to a few ms; the mean moves by a fifth of
  the delay, p95 lives in the tail a loaded machine gives every step. The test is Mood's quantile
  test at the band's middle: Fisher's exact test, one-sided, on how many attempts of each run lie
  above the two runs' pooled quantile (more of them now), the test of what the effect measures
  (Mann-Whitney U, a test of the whole distribution, sees such a delay late).
- **failure rate**: the share of attempts that did not end ``ok``, Fisher's exact test (more
  failures now). The effect is the difference of the rates, with Newcombe's interval built from
  the two Wilson intervals (``scipy.stats.binomtest``).
- **Holm**: the p-values of every test made are adjusted together by Holm's step-down method, so
  the family-wise false-alarm rate over all steps is at most ``alpha``.
- **common drift**: how much slower a whole run is than its baseline, factored out of latency.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import stats  # type: ignore[import-untyped]

Durations = NDArray[np.float64]
# Per step and side, the ok durations resampled for the interval, and the resamples: beyond them
# the interval is only a little wider than the whole sample's.
MAX_RESAMPLED = 5_000
RESAMPLES = 2_000


def band_mean(durations: Durations, quantiles: Durations) -> float:
    """The mean of the band's quantiles: the statistic the latency effect is measured on."""
    return float(np.mean(np.quantile(durations, quantiles)))


def quantile_test(now: Durations, before: Durations, at: float) -> float:
    """Mood's quantile test, one-sided: the p-value of more attempts above the pooled ``at``
    quantile now than in the baseline (Fisher's exact test on the two counts)."""
    cut = np.quantile(np.concatenate([now, before]), at)
    above, above_before = int(np.count_nonzero(now > cut)), int(np.count_nonzero(before > cut))
    table = [[above, len(now) - above], [above_before, len(before) - above_before]]
    return float(stats.fisher_exact(table, alternative="greater").pvalue)


def band_shift_interval(
    now: Durations, before: Durations, quantiles: Durations, confidence: float, seed: str
) -> tuple[float, float]:
    """The percentile bootstrap interval of the band's shift (the mean of its quantiles' shifts),
    seeded by ``seed`` (the step's name): the same two samples always get the same interval."""

    def shift(x: Durations, y: Durations, axis: int = -1) -> Durations:
        return np.asarray(np.mean(np.quantile(x, quantiles, axis=axis) - np.quantile(y, quantiles, axis=axis), axis=0))

    interval = stats.bootstrap(
        (now[:MAX_RESAMPLED], before[:MAX_RESAMPLED]),
        shift,
        n_resamples=RESAMPLES,
        batch=200,
        vectorized=True,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(zlib.crc32(seed.encode())),
    ).confidence_interval
    return float(interval.low), float(interval.high)


def rate_shift(now: tuple[int, int], before: tuple[int, int], confidence: float) -> tuple[float, float, float]:
    """(p, low, high) for ``(failures, attempts)`` now against before: Fisher's exact test (more
    failures now) and the difference of the rates' interval by Newcombe's method."""
    (k1, n1), (k2, n2) = now, before
    p = float(stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="greater").pvalue)
    r1, r2 = k1 / n1, k2 / n2
    (low1, high1), (low2, high2) = wilson(k1, n1, confidence), wilson(k2, n2, confidence)
    # Newcombe (1998), method 10: the difference's interval from each rate's Wilson interval.
    low = r1 - r2 - float(np.hypot(r1 - low1, high2 - r2))
    high = r1 - r2 + float(np.hypot(high1 - r1, r2 - low2))
    return p, low, high


def wilson(hits: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion of ``trials`` (scipy's ``binomtest``)."""
    interval = stats.binomtest(hits, trials).proportion_ci(confidence, method="wilson")
    return float(interval.low), float(interval.high)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (as R's ``p.adjust(method = "holm")``): rejecting those
    below alpha keeps the family-wise error rate at most alpha, whatever the tests' dependence."""
    if not pvalues:
        return []
    p = np.asarray(pvalues, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    scaled = (len(p) - np.arange(len(p))) * p[order]
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return [float(value) for value in adjusted]


def common_drift(
    now: Mapping[str, Durations], before: Mapping[str, Durations], quantiles: Durations, min_samples: int
) -> float:
    """How much slower one run is than another (below 1: faster): the median, over the steps with
    at least ``min_samples`` durations on both sides, of the ratio of their band's mean quantile
    (the statistic the effect is measured on: a loaded machine stretches the top of a step's
    durations by another factor than their middle); 1 when no step has enough.

    A machine shared with other work slows every step at once (measured: every step's p90 up by
    60 to 80 % while other test suites ran), by more than the shifts worth finding; a fault or a
    defect on one step moves that step alone, and hardly moves the median of all of them."""
    ratios = [
        band_mean(now[step], quantiles) / band_mean(before[step], quantiles)
        for step in set(now) & set(before)
        if min(len(now[step]), len(before[step])) >= min_samples and np.quantile(before[step], quantiles[0]) > 0
    ]
    return float(np.median(ratios)) if ratios else 1.0
