"""``benchmarks/memory_flat.py``: which process is which, resident memory sampled, growth judged.

Nothing here is about how much memory the harness uses: the figures live in the benchmark. This
checks that a process that grows fails its row and one that stays flat passes, that the platform is
shown and never judged, that a process missing at a mark fails, and that the sampler reads a real
process tree (a child that grows by 64 MB is seen to grow).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from anef_harness.distributed import worker_command
from anef_harness.processes import LoadPlan, locust_command
from benchmarks.memory.samples import (
    CONDUCTOR,
    LIVE_PASSES,
    PLATFORM,
    PLATFORM_MAIL,
    Sample,
    Sampler,
    Series,
    growth,
    role_of,
)

MB = 2**20


def series(role: str, rss_mb: list[float], *, judged: bool = True, every: float = 5.0) -> Series:
    return Series(role, judged, [Sample(100 + n * every, int(mb * MB)) for n, mb in enumerate(rss_mb)])


def test_a_harness_process_that_grows_by_a_tenth_between_the_marks_fails_and_one_that_stays_flat_passes() -> None:
    # load began at 100 s, a sample every 5 s; the marks at 10 s and 40 s of load, medians of 10 s around them
    flat = series("Locust", [80, 99, 100, 101, 130, 104, 103, 106, 107, 140, 107])
    grown = series("Locust", [80, 99, 100, 101, 130, 104, 103, 111, 112, 140, 112])

    flat_row = growth(flat, began=100, mark=10, end=40, window=10, slack=6)
    grown_row = growth(grown, began=100, mark=10, end=40, window=10, slack=6)

    assert (flat_row.rss_from, flat_row.rss_end, flat_row.peak) == (
        100 * MB,
        106 * MB,
        130 * MB,
    )  # the spike after the end is not the peak
    assert flat_row.growth == pytest.approx(0.06)
    assert flat_row.failed is None
    assert grown_row.growth == pytest.approx(0.11)
    assert grown_row.failed == "grew 11.0% (bound 10%)"


def test_a_spike_at_a_mark_is_not_its_figure_and_nothing_after_the_load_counts() -> None:
    # at 40 s a document is in memory (150); after the load, judging (400)
    samples = series("Locust", [90, 95, 100, 100, 100, 100, 100, 100, 100, 150, 100, 400])

    row = growth(samples, began=100, mark=10, end=45, window=20, slack=6)

    assert row.rss_end == 100 * MB  # the median of 35, 40 and 45 s
    assert row.peak == 150 * MB
    assert row.failed is None


def test_the_platform_is_shown_with_its_growth_but_never_fails() -> None:
    row = growth(
        series(PLATFORM, [100, 100, 100, 150, 200], judged=False), began=100, mark=5, end=20, window=0, slack=6
    )

    assert row.growth == pytest.approx(1.0)
    assert row.failed is None


def test_a_harness_process_gone_before_the_end_fails_and_says_when_it_was_last_seen() -> None:
    row = growth(series("Locust", [100, 100, 100]), began=100, mark=5, end=40, window=10, slack=6)

    assert row.rss_end is None
    assert row.failed == "not running at 40 s (last seen at 10 s)"


def test_processes_are_named_by_the_command_lines_the_harness_starts_them_with(tmp_path: Path) -> None:
    plan = LoadPlan(tmp_path, tmp_path / "c.yaml", "http://127.0.0.1:1", None, 0, 0, 5.0)

    assert role_of(locust_command(plan, "--headless")) == ("Locust", True)
    assert role_of(locust_command(plan, "--master")) == ("Locust master", True)
    assert role_of(worker_command("127.0.0.1:5557", tmp_path)) == ("Locust worker", True)
    assert role_of([sys.executable, "-m", "reference_platform", "{}"]) == (PLATFORM, False)
    assert role_of([sys.executable, "-m", "reference_platform.mail", "{}"]) == (PLATFORM_MAIL, False)
    assert role_of([sys.executable, "-m", "scenarios.browser", "--target", "x"]) == ("browser process (Python)", True)
    assert role_of([sys.executable, "-m", "checks.live_pass", str(tmp_path)]) == (LIVE_PASSES, False)
    assert role_of([sys.executable, "-c", "pass"]) is None
    assert role_of([sys.executable, "-m"]) is None


GROWER = textwrap.dedent(
    """
    import sys
    print("ready", flush=True)
    sys.stdin.readline()
    kept = bytearray(64 * 2**20)  # touched: resident, not only reserved
    for at in range(0, len(kept), 4096):
        kept[at] = 1
    print("grown", flush=True)
    sys.stdin.readline()
    """
)


def test_the_sampler_reads_a_real_process_tree_and_sees_a_child_grow() -> None:
    # a stand-in conductor whose child (stdin and stdout inherited) grows by 64 MB when told
    conductor = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {GROWER!r}])"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert conductor.stdin is not None
    assert conductor.stdout is not None
    try:
        assert conductor.stdout.readline().strip() == "ready"
        sampler = Sampler(conductor.pid)
        assert sampler.sample(0.0)
        conductor.stdin.write("grow\n")
        conductor.stdin.flush()
        assert conductor.stdout.readline().strip() == "grown"
        assert sampler.sample(10.0)
        conductor.stdin.write("end\n")
        conductor.stdin.flush()
        conductor.wait(timeout=10)
        assert not sampler.sample(20.0)  # the conductor has ended
    finally:
        conductor.kill()

    (other,) = set(sampler.series) - {CONDUCTOR}
    assert other.startswith("other: python")  # none of the harness's own roles
    child = sampler.series[other]
    row = growth(child, began=0.0, mark=0.0, end=10.0, window=0, slack=1.0)
    assert row.rss_end is not None
    assert row.rss_from is not None
    assert row.rss_end - row.rss_from >= 60 * MB
    assert row.uss_end is not None
    assert row.uss_end - (row.uss_from or 0) >= 60 * MB
    assert row.failed is not None
    assert row.failed.startswith("grew")
    conductor_row = growth(sampler.series[CONDUCTOR], began=0.0, mark=0.0, end=10.0, window=0, slack=1.0)
    assert conductor_row.failed is None  # the parent did not grow
