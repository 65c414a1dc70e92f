"""The statistics of the security journey's timing probe (``security.enumeration``): rounds of
interleaved reset timings for an existing account and an address with no account, a robust shift
estimate and an exact rank test, and a separation confirmed by an independent round (the design
note is in ``scenarios.journeys.security``)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

# Timing: a few interleaved samples per side, an exact rank test and a robust shift estimate.
# Both must agree: the test alone would flag the sub-millisecond cost of writing a reset link,
# the shift alone a noisy machine. 100 ms is far above that cost and far below what an attacker
# needs over a network to tell the two apart with a handful of requests.
TIMING_SAMPLES = 6
TIMING_ALPHA = 0.01
TIMING_GAP_S = 0.1
# A round that separates is confirmed by an independent one (design note above): random delays
# that happen to fall on one side in a round fall anywhere in the next.
TIMING_ROUNDS = 2


@dataclass(frozen=True)
class TimingRound:
    """One round of the timing probe: reset answer times (seconds) for the existing account and for
    an address with no account, taken in interleaved pairs."""

    known: tuple[float, ...]
    unknown: tuple[float, ...]

    @property
    def shift(self) -> float:
        """How much later the existing account is answered (Hodges-Lehmann; negative: sooner)."""
        return hodges_lehmann(list(self.known), list(self.unknown))

    @property
    def p(self) -> float:
        return mann_whitney_p(list(self.known), list(self.unknown))

    @property
    def direction(self) -> int:
        """1 when the round tells the existing account by later answers, -1 by sooner ones, 0 when it
        does not: the rank test (``TIMING_ALPHA``) and the shift (``TIMING_GAP_S``) must both say so."""
        shift = self.shift
        if self.p <= TIMING_ALPHA and abs(shift) >= TIMING_GAP_S:
            return 1 if shift > 0 else -1
        return 0

    def describe(self) -> str:
        return (
            f"shift {self.shift * 1000:+.0f} ms, Mann-Whitney p = {self.p:.4f}, medians "
            f"{statistics.median(self.known) * 1000:.0f} and {statistics.median(self.unknown) * 1000:.0f} ms"
        )


def judge_timing(sample: Callable[[], TimingRound], rounds: int = TIMING_ROUNDS) -> tuple[list[TimingRound], bool]:
    """Take rounds from ``sample`` while each separates in the first one's direction, ``rounds`` at
    most: the rounds taken, and whether the timings tell the accounts apart (all ``rounds`` did).
    A round that does not separate ends the probe, so a clean platform costs one round."""
    taken = [sample()]
    direction = taken[0].direction
    while direction and len(taken) < rounds:
        taken.append(sample())
        if taken[-1].direction != direction:
            return taken, False
    return taken, direction != 0


def hodges_lehmann(first: list[float], second: list[float]) -> float:
    """The median of every pairwise difference: a shift estimate that a few outliers do not move."""
    return statistics.median(a - b for a in first for b in second)


@cache
def _rank_sums(n: int, m: int) -> tuple[int, ...]:
    """How many orderings of n and m distinct values give each value of U (counts indexed by U)."""
    if n == 0 or m == 0:
        return (1,)
    counts = [0] * (n * m + 1)
    # The largest value is either one of the first sample (it beats all m) or of the second.
    for u, ways in enumerate(_rank_sums(n - 1, m)):
        counts[u + m] += ways
    for u, ways in enumerate(_rank_sums(n, m - 1)):
        counts[u] += ways
    return tuple(counts)


def mann_whitney_p(first: list[float], second: list[float]) -> float:
    """The exact two-sided p-value of the Mann-Whitney U test (ties count one half)."""
    n, m = len(first), len(second)
    u = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in first for b in second)
    tail = min(u, n * m - u)
    counts = _rank_sums(n, m)
    return min(1.0, 2 * sum(counts[: math.floor(tail) + 1]) / math.comb(n + m, n))
