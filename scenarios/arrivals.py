"""The open workload model's arrival schedule: *when* each new journey must start.

In the open model (k6's constant and ramping arrival rates) journeys start on a timetable set by
the arrival rate, whatever the platform does. A closed model (N users each waiting for their
previous response) slows down when the server stalls, so the stall hides itself: coordinated
omission. This schedule never waits for anyone: it hands out scheduled start times, callers sleep
until them, and when callers are late (the platform is slow, workers are saturated) the times it
returns are already in the past. Measuring latency from the *scheduled* time therefore counts the
time a real applicant would have waited, which is the point. The schedule never sleeps and never
drops an arrival.

Arrivals are placed where the integral of the rate reaches each next whole arrival, so a constant
rate r gives arrivals exactly 1/r apart and a ramp gives as many arrivals as its area. With N
workers, each takes ``share=1/N`` and ``phase=k/N``: worker k gets the arrivals numbered k, k+N,
k+2N, … of the single-process timetable, so together they interleave into it exactly.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

__all__ = ["STEP", "ArrivalSchedule", "expected_count"]

STEP = 0.05
"""Integration step in seconds; also how far the schedule moves at a time while the rate is 0."""

_EDGE = 1e-6
"""Seconds before the end at which arrivals stop: rounding accumulated over thousands of arrivals must not
turn the arrival that falls exactly on the end (rate x duration whole) into one more arrival."""

Rate = Callable[[float], float]


class ArrivalSchedule:
    """This process's arrival times for an arrival ``rate`` (per second, at t seconds since ``start``).

    ``start`` is an epoch time (``time.time()`` style); ``share`` is this process's fraction of the
    arrivals; ``phase`` in [0, 1) staggers workers so their arrivals interleave instead of coinciding.
    """

    def __init__(self, rate: Rate, *, start: float, duration: float, share: float = 1.0, phase: float = 0.0) -> None:
        _require(duration >= 0, f"duration must be >= 0 seconds, got {duration!r}")
        _require(0 < share <= 1, f"share must be in (0, 1], got {share!r}")
        _require(0 <= phase < 1, f"phase must be in [0, 1), got {phase!r}")
        self._rate = rate
        self._start = start
        self._duration = duration
        self._share = share
        self._phase = phase
        self._lock = threading.Lock()
        self._last: float | None = None  # offset of the last arrival handed out; None before the first
        self._finished = False

    def next(self) -> float | None:
        """The epoch time of this process's next arrival, or None once the schedule is past its end."""
        with self._lock:
            if self._finished:
                return None
            offset = self._first() if self._last is None else self._after(self._last, 1.0)
            if offset is None or offset >= self._duration - _EDGE:
                self._finished = True
                return None
            self._last = offset
            return self._start + offset

    def _first(self) -> float | None:
        if self._phase > 0:
            return self._after(0.0, self._phase)
        return self._first_positive(0.0)

    def _first_positive(self, t: float) -> float | None:
        """The first time from ``t`` (in steps of STEP) at which the rate is positive."""
        while t < self._duration:
            if self._share_of_rate(t) > 0:
                return t
            t += STEP
        return None

    def _after(self, t: float, need: float) -> float | None:
        """The time at which ``need`` more arrivals (this process's share) have accumulated since ``t``."""
        while t < self._duration:
            h = min(STEP, self._duration - t)
            r0, r1 = self._share_of_rate(t), self._share_of_rate(t + h)
            gained = h * (r0 + r1) / 2
            if gained >= need:
                return t + _crossing(r0, r1, h, need)
            need -= gained
            t += h
        return None

    def _share_of_rate(self, t: float) -> float:
        """This process's arrivals per second at ``t``; a negative or NaN rate counts as 0."""
        r = self._rate(t)
        return r * self._share if r > 0 else 0.0


def expected_count(rate: Rate, duration: float, share: float = 1.0) -> float:
    """How many arrivals ``rate`` gives over ``[0, duration]`` (times ``share``): for tests and progress bars."""
    if duration <= 0:
        return 0.0
    n = max(1, math.ceil(duration / (STEP / 5)))
    h = duration / n
    values = [max(rate(i * h), 0.0) for i in range(n + 1)]
    return share * h * (sum(values) - (values[0] + values[-1]) / 2)


def _crossing(r0: float, r1: float, h: float, need: float) -> float:
    """Where, within a step of length ``h`` whose rate goes linearly from r0 to r1, ``need`` arrivals accrue.

    Solves r0·s + (r1 - r0)·s²/(2h) = need in the form that stays exact for a constant rate (s = need/r0)
    and does not cancel catastrophically when the rate barely changes.
    """
    slope = (r1 - r0) / h
    root = math.sqrt(max(r0 * r0 + 2 * slope * need, 0.0))
    if r0 + root <= 0:
        return h
    return min(max(2 * need / (r0 + root), 0.0), h)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
