"""The harness-overhead benchmark's measures: a measured window of a run, its CPU shares, its HTTP
requests, and the probe that Locust processes load to end the window themselves."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

# Seconds a side run together with others waits for them to start; past it, it measures alone (a
# partner that never starts fails its own run). Well within ``sides.SAFETY``, which ends the run.
PARTNERS_TIMEOUT = 30.0


class BenchmarkError(Exception):
    """A measured process failed; the message carries the end of its log."""


@dataclass(frozen=True)
class Window:
    """The measured part of a run: its wall seconds and the CPU used meanwhile, in % of one core,
    by the load generator, by the platform and by the whole machine (every process)."""

    seconds: float
    load_cpu: float
    platform_cpu: float
    machine_cpu: float


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs have spent on something since boot (guest time is already in user)."""
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0) + getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    return float(sum(times) - idle)


@dataclass(frozen=True)
class Sample:
    """Wall clock and CPU seconds used so far, read at one instant."""

    wall: float
    load: float
    platform: float
    machine: float

    @classmethod
    def take(cls, load_cpu_seconds: float, platform: psutil.Process) -> Sample:
        times = platform.cpu_times()
        return cls(time.monotonic(), load_cpu_seconds, times.user + times.system, machine_busy_seconds())

    def until(self, later: Sample) -> Window:
        seconds = later.wall - self.wall

        def share(before: float, after: float) -> float:
            return 100 * (after - before) / seconds if seconds > 0 else 0.0

        return Window(
            seconds,
            share(self.load, later.load),
            share(self.platform, later.platform),
            share(self.machine, later.machine),
        )


@dataclass(frozen=True)
class Measure:
    """One run of one side: its HTTP requests over the measured window."""

    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    window: Window

    @property
    def rps(self) -> float:
        return self.requests / self.window.seconds if self.window.seconds > 0 else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """The load generator's CPU per request: its cost, whoever the bottleneck was."""
        return 10 * self.window.load_cpu * self.window.seconds / self.requests if self.requests else 0.0

    @property
    def other_cpu(self) -> float:
        """What the rest of the machine (other processes, this script) used meanwhile."""
        return max(0.0, self.window.machine_cpu - self.window.load_cpu - self.window.platform_cpu)


@dataclass(frozen=True)
class Results:
    """Every run of every side, in the order they ran."""

    canned_harness: tuple[Measure, ...]
    canned_bare: tuple[Measure, ...]
    harness: tuple[Measure, ...]
    bare: tuple[Measure, ...]
    locust_healthz: tuple[Measure, ...]
    wrk_healthz: tuple[Measure, ...]
    users: int
    seconds: int
    warmup: int
    rounds: int
    canned_rounds: int
    population: int  # applicants seeded on the real platform, and recorded for the canned one


def install_window_probe(
    *, warmup: float, seconds: float, platform_pid: int, out: str, together: str | None = None, sides: int = 1
) -> None:
    """In a Locust process: when the warm-up is over, reset the statistics; ``seconds`` later,
    write the measured window and the statistics to ``out``, then end the run as ``--run-time``
    does (``runner.quit()``: users stop, ``quitting`` fires, the harness closes its event log).
    With ``together`` (a folder shared by ``sides`` processes run side by side), each process
    marks its start there and waits for the others': the warm-up runs from the last one's start,
    so that they all measure the same seconds, however long each took to start.

    The probe ends the window itself, at the same time after the same warm-up for every side:
    ``--run-time`` and a campaign's shape each stop at their own moment (gevent's loop clock is
    stale after the locustfile's imports, so ``--run-time`` ends a second or so early).
    """
    import gevent  # only Locust processes call this; gevent and Locust are theirs
    from locust import events
    from locust.env import Environment

    platform = psutil.Process(platform_pid)
    start: list[Sample] = []

    def sample() -> Sample:
        own = os.times()
        return Sample.take(own.user + own.system, platform)

    def begin(environment: Environment) -> None:
        environment.stats.reset_all()
        start.append(sample())
        gevent.spawn_later(seconds, end, environment)

    def end(environment: Environment) -> None:
        window = start[0].until(sample())
        entries = [
            {
                "method": entry.method,
                "name": entry.name,
                "num_requests": entry.num_requests,
                "num_failures": entry.num_failures,
                "response_times": dict(entry.response_times),
            }
            for entry in environment.stats.entries.values()
        ]
        runner = environment.runner
        assert runner is not None  # the test has started
        users = dict(runner.user_classes_count)
        Path(out).write_text(json.dumps({"window": asdict(window), "entries": entries, "users": users}))
        # not SIGTERM: a headless run with a shape installs Locust's handler only once it is over
        runner.quit()

    def after_the_others(environment: Environment) -> None:
        assert together is not None
        deadline = time.monotonic() + PARTNERS_TIMEOUT
        while len(started := list(Path(together).glob("*.started"))) < sides and time.monotonic() < deadline:
            gevent.sleep(0.02)
        # the same moment for every side: the last start seen, whichever process reads it
        last = max(marker.stat().st_mtime for marker in started)
        gevent.spawn_later(max(0.0, last + warmup - time.time()), begin, environment)

    @events.test_start.add_listener
    def _start(environment: Environment, **_: Any) -> None:
        if together is None:
            gevent.spawn_later(warmup, begin, environment)
            return
        Path(together, f"{os.getpid()}.started").touch()
        gevent.spawn(after_the_others, environment)


def percentile(histogram: Counter[int], share: float) -> float:
    """Locust's percentile of a {rounded ms: count} histogram (``calculate_response_time_percentile``)."""
    total = sum(histogram.values())
    if total == 0:
        return 0.0
    above = int(total * share)
    seen = 0
    for value in sorted(histogram, reverse=True):
        seen += histogram[value]
        if total - seen <= above:
            return float(value)
    return 0.0


def http_measure(entries: Sequence[dict[str, Any]], window: Window) -> Measure:
    """The HTTP requests of a Locust run's window; the harness's ``STEP`` entries time whole steps,
    not requests, and are left out."""
    http = [entry for entry in entries if entry["method"] != "STEP"]
    histogram: Counter[int] = Counter()
    for entry in http:
        histogram.update({int(ms): count for ms, count in entry["response_times"].items()})
    return Measure(
        requests=sum(entry["num_requests"] for entry in http),
        failures=sum(entry["num_failures"] for entry in http),
        p50_ms=percentile(histogram, 0.50),
        p95_ms=percentile(histogram, 0.95),
        window=window,
    )
