"""Smoke test of ``benchmarks/master_capacity.py``: a real master takes simulated workers' events.

Nothing here is about speed: the figures live in the benchmark; this checks that the events the
simulated workers append reach the master's results folder and are acknowledged, and how a level
is called saturated.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks import master_capacity
from benchmarks.capacity.levels import Level, event_lines, saturation
from scenarios.events import StepEvent, decode

FINE = Level(
    workers=2,
    rate=500,
    seconds=2,
    offered=1000,
    acknowledged=1000,
    backlog_start=250,
    backlog_end=250,
    lag_p50_s=0.15,
    lag_p95_s=0.25,
    master_cpu=3,
    workers_cpu=2,
)


def test_the_simulated_events_are_event_lines_of_the_model() -> None:
    lines = event_lines(10)
    events = [decode(line) for line in lines]
    assert all(line.endswith(b"\n") for line in lines)
    assert any(isinstance(event, StepEvent) for event in events)


def test_a_level_is_saturated_by_a_full_master_core_or_acknowledgements_falling_behind() -> None:
    assert saturation(FINE) == ""
    assert saturation(replace(FINE, master_cpu=95)) == "master CPU"
    behind = replace(FINE, acknowledged=600, backlog_end=250 + 2000)
    assert saturation(behind) == "acknowledgements fall behind"
    assert saturation(replace(FINE, lag_p95_s=3.0)) == "acknowledgements fall behind"
    assert saturation(replace(FINE, workers_cpu=99)) == "simulated workers' CPU"


@pytest.mark.slow
def test_a_master_writes_and_acknowledges_what_simulated_workers_send(tmp_path: Path) -> None:
    capacity = master_capacity.measure(workers=[2], totals=[400, 1600], seconds=1.5, folder=tmp_path, progress=print)

    levels = capacity.of(2)
    assert [level.rate for level in levels] == [200, 800]
    for level in levels:
        assert level.offered > 0
        assert level.acknowledged > 0
    # what the master wrote is the workers' events, one file per worker, every line an event
    written = sorted((tmp_path / "workers-2" / "results" / "events").glob("*.jsonl"))
    assert [path.name for path in written] == ["worker-0.jsonl", "worker-1.jsonl"]
    for path in written:
        lines = path.read_bytes().splitlines(keepends=True)
        assert lines
        for line in lines:
            decode(line)
    assert "2 workers: sustained" in master_capacity.render(capacity)
