"""The open model's arrival schedule: counts, spacing, interleaving workers, thread safety, the end."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import pytest

from scenarios.arrivals import ArrivalSchedule, expected_count
from scenarios.shapes import level_at

START = 1_700_000_000.0


def drain(schedule: ArrivalSchedule) -> list[float]:
    times: list[float] = []
    while (at := schedule.next()) is not None:
        times.append(at)
    return times


def constant(rate: float) -> Callable[[float], float]:
    return lambda _t: rate


def shaped(name: str, *, duration: float, peak: float) -> Callable[[float], float]:
    return lambda t: level_at(name, {}, t, duration=duration, peak=peak)


def test_constant_rate_gives_rate_times_duration_evenly_spaced() -> None:
    times = drain(ArrivalSchedule(constant(10), start=START, duration=5))
    assert len(times) == pytest.approx(50, abs=1)
    assert times[0] == START
    # An epoch float resolves about 0.24 µs, hence the absolute tolerance.
    assert all(b - a == pytest.approx(0.1, abs=1e-6) for a, b in itertools.pairwise(times))
    assert times[-1] < START + 5


def test_first_arrival_is_delayed_by_the_phase() -> None:
    schedule = ArrivalSchedule(constant(10), start=START, duration=5, share=0.5, phase=0.5)
    assert schedule.next() == pytest.approx(START + 0.1)
    assert schedule.next() == pytest.approx(START + 0.3)


def test_two_workers_with_half_shares_interleave_to_the_same_total() -> None:
    single = drain(ArrivalSchedule(constant(10), start=START, duration=5))
    first = drain(ArrivalSchedule(constant(10), start=START, duration=5, share=0.5, phase=0.0))
    second = drain(ArrivalSchedule(constant(10), start=START, duration=5, share=0.5, phase=0.5))
    assert len(first) + len(second) == len(single)
    assert sorted(first + second) == pytest.approx(single)
    assert not set(first) & set(second)


@pytest.mark.parametrize("workers", [3, 7])
def test_n_workers_rebuild_the_single_timetable_of_a_ramp(workers: int) -> None:
    rate = shaped("steps", duration=100, peak=13)
    single = drain(ArrivalSchedule(rate, start=START, duration=100))
    parts = [
        drain(ArrivalSchedule(rate, start=START, duration=100, share=1 / workers, phase=k / workers))
        for k in range(workers)
    ]
    assert sum(len(part) for part in parts) == pytest.approx(len(single), abs=1)


@pytest.mark.parametrize("name", ["ramp", "spike", "end_of_month_peak"])
def test_shaped_rate_gives_its_expected_count(name: str) -> None:
    rate = shaped(name, duration=120, peak=20)
    times = drain(ArrivalSchedule(rate, start=START, duration=120))
    assert len(times) == pytest.approx(expected_count(rate, 120), abs=1)
    assert times == sorted(times)


def test_ramp_from_zero_waits_for_a_positive_rate_then_follows_the_area() -> None:
    rate = shaped("ramp", duration=60, peak=20)
    times = drain(ArrivalSchedule(rate, start=START, duration=60))
    assert expected_count(rate, 60) == pytest.approx(600)
    assert len(times) == pytest.approx(600, abs=1)
    assert times[0] == pytest.approx(START + 0.05)
    # Arrivals get denser as the rate climbs.
    assert times[1] - times[0] > times[-1] - times[-2]


def test_zero_rate_stretches_are_skipped() -> None:
    def gap(t: float) -> float:
        return 0.0 if 2 <= t < 4 else 5.0

    times = [at - START for at in drain(ArrivalSchedule(gap, start=START, duration=6))]
    assert not [t for t in times if 2.05 <= t < 3.95]
    assert len(times) == pytest.approx(expected_count(gap, 6), abs=1)


def test_share_scales_expected_count() -> None:
    assert expected_count(constant(10), 5, share=0.25) == pytest.approx(12.5)
    assert expected_count(constant(10), 0) == 0
    schedule = ArrivalSchedule(constant(10), start=START, duration=5, share=0.25)
    assert len(drain(schedule)) == pytest.approx(12.5, abs=1)


def test_next_returns_none_after_the_end_and_keeps_doing_so() -> None:
    schedule = ArrivalSchedule(constant(2), start=START, duration=1)
    assert [schedule.next(), schedule.next()] == [START, START + 0.5]
    assert schedule.next() is None
    assert schedule.next() is None


def test_no_arrival_when_the_rate_stays_zero_or_the_duration_is_zero() -> None:
    assert ArrivalSchedule(constant(0), start=START, duration=3).next() is None
    assert ArrivalSchedule(constant(10), start=START, duration=0).next() is None


def test_late_callers_get_past_times_nothing_is_dropped() -> None:
    # The schedule does not look at the clock: a start in the past still yields every arrival.
    times = drain(ArrivalSchedule(constant(10), start=0.0, duration=5))
    assert len(times) == 50
    assert times[0] == 0.0


def test_concurrent_draws_get_distinct_times_and_the_same_total() -> None:
    schedule = ArrivalSchedule(constant(1000), start=START, duration=10)
    drawn: list[list[float]] = [[] for _ in range(4)]
    barrier = threading.Barrier(4)

    def draw(mine: list[float]) -> None:
        barrier.wait()
        mine.extend(drain(schedule))

    threads = [threading.Thread(target=draw, args=(mine,)) for mine in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [at for mine in drawn for at in mine]
    assert len(every) == len(set(every))
    assert sorted(every) == drain(ArrivalSchedule(constant(1000), start=START, duration=10))
    assert all(mine == sorted(mine) for mine in drawn)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration": -1.0}, "duration must be >= 0"),
        ({"share": 0.0}, r"share must be in \(0, 1\]"),
        ({"share": 1.5}, r"share must be in \(0, 1\]"),
        ({"phase": 1.0}, r"phase must be in \[0, 1\)"),
    ],
)
def test_invalid_arguments_are_refused(kwargs: dict[str, float], message: str) -> None:
    arguments = {"start": START, "duration": 5.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        ArrivalSchedule(constant(10), **arguments)
