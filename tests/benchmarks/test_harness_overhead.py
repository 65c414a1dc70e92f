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
    options = harness_overhead.parse_args(
        [
            *("--seconds", "3", "--rounds", "1", "--canned-rounds", "2", "--users", "4", "--warmup", "1"),
            *("--population", "200"),  # 50 applicants a user, as many as a full run's 2000 for 20 users
        ]
    )

    results = harness_overhead.run(options, tmp_path)

    sides = {
        "canned_harness": results.canned_harness,
        "canned_bare": results.canned_bare,
        "harness": results.harness,
        "bare": results.bare,
        "locust_healthz": results.locust_healthz,
        "wrk_healthz": results.wrk_healthz,
    }
    for side, measures in sides.items():
        assert len(measures) == (2 if side.startswith("canned") else 1), side
        assert all(measure.requests > 0 for measure in measures), side
    # the login journey against a clean platform, or its recorded answers: any failed request is a bug
    for side in ("canned_harness", "canned_bare", "harness", "bare"):
        assert all(measure.failures == 0 for measure in sides[side]), side
    text = harness_overhead.render(results)
    assert "canned: harness / bare" in text
    assert "real: ratio harness / bare" in text
    assert "real: ratio Locust / wrk" in text
