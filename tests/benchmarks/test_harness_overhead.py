"""Smoke test of ``benchmarks/harness_overhead.py``: every side sends requests, the table renders.

Nothing here is about speed: performance targets live in the benchmark, not in tests.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks import harness_overhead

pytestmark = [
    pytest.mark.slow,
    pytest.mark.load,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed"),
]


def test_every_side_sends_requests_and_the_table_shows_the_ratios(tmp_path: Path) -> None:
    options = harness_overhead.parse_args(["--seconds", "3", "--rounds", "1", "--users", "4", "--warmup", "1"])

    results = harness_overhead.run(options, tmp_path)

    sides = {
        "harness": results.harness,
        "bare": results.bare,
        "locust_healthz": results.locust_healthz,
        "wrk_healthz": results.wrk_healthz,
    }
    for side, measures in sides.items():
        assert len(measures) == 1, side
        assert measures[0].requests > 0, side
    # the login journey against a clean platform: any failed request is a bug, not noise
    assert results.harness[0].failures == 0
    assert results.bare[0].failures == 0
    text = harness_overhead.render(results)
    assert "ratio harness / bare" in text
    assert "ratio Locust / wrk" in text
