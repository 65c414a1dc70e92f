"""Shift detection on real campaigns: the embedded platform, real Locust processes, real results.

Two fault-free campaigns with different seeds must not be told apart; a campaign with the
``latency`` fault on one route (150 ms on a fifth of its requests) must be, on the step that
uses the route, with its effect. The faulted campaign runs beside its baseline, at the same time:
on a machine shared with other work (other test workers, other campaigns) the load changes by a
factor of three or four within a minute, and a delay of 150 ms on the uploads of a run that
happened to meet such a change is not there to be seen (docs/judgement.md, "Shifts"). The second
fault-free campaign runs after them, as a user's next run would: the drift between the two is
the machine's, and must not be taken for a shift.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.anef_harness.campaigns import ROOT, availability_slos, campaign, run

pytestmark = [pytest.mark.slow, pytest.mark.load]

# The uploads of a renewal (two documents each): the step with the most attempts in a short run.
ROUTE = "/api/me/dossiers/*/documents"
DELAYED = {"id": "latency", "rate": 0.2, "scope": {"routes": [ROUTE]}, "params": {"mean_ms": 150}}


def shaped(tmp_path: Path, name: str, **changes: Any) -> Path:
    """The smoke campaign in 20 s, renewals and logins only, 8 protocol users: several hundred
    uploads and a hundred or more attempts of most other steps, without queueing so long that it
    buries a 150 ms delay; latency SLOs left out (a loaded machine breaches them whatever the
    faults)."""
    return campaign(
        tmp_path,
        name=name,
        duration="20s",
        population={"size": 1500},
        load={"users": 8, "spawn_rate": 8},
        journeys={"renewal": 3, "login": 1},
        agents={"users": 0},
        browser={"users": 0},
        slo=str(availability_slos(tmp_path)),
        **changes,
    )


def gate(results: Path, baseline: Path) -> subprocess.CompletedProcess[str]:
    """``anef-harness gate RESULTS --baseline BASELINE`` in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "anef_harness", "gate", str(results), "--baseline", str(baseline)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def shift_of(results: Path) -> dict[str, Any]:
    shift: dict[str, Any] = json.loads((results / "summary.json").read_text(encoding="utf-8"))["shift"]
    return shift


def test_fault_free_seeds_are_not_told_apart_and_a_delay_on_one_route_is_flagged_on_its_step(tmp_path: Path) -> None:
    clean = shaped(tmp_path, "clean", faults={"profile": "none"})
    delayed = shaped(tmp_path, "delayed", faults={"profile": "none", "schedule": [{"at": 0, "faults": [DELAYED]}]})
    first, slowed, second = tmp_path / "runs" / "first", tmp_path / "faulted" / "slowed", tmp_path / "runs" / "second"
    with ThreadPoolExecutor(2) as pool:  # side by side: the same machine for both
        started = [pool.submit(run, clean, "--set", "seed=1", "--out", first)]
        started.append(pool.submit(run, delayed, "--set", "seed=3", "--out", slowed))
        done_first, done_slowed = (job.result() for job in started)
    assert done_first.returncode == 0, done_first.stdout + done_first.stderr
    # Alone, the delay breaks nothing: no SLO, no defect, and nothing comparable in its history.
    assert done_slowed.returncode == 0, done_slowed.stdout + done_slowed.stderr
    assert "shift: no baseline: no earlier complete run of smoke" in done_slowed.stdout

    # The next fault-free run, another seed: judged against the history's last comparable run.
    done_second = run(clean, "--set", "seed=2", "--out", second)
    assert done_second.returncode == 0, done_second.stdout + done_second.stderr
    assert f"shift: baseline {first} (the history's last comparable run of smoke" in done_second.stdout
    alike = shift_of(second)
    tested = [c for c in alike["checks"] if c["skipped"] is None]
    assert len(tested) >= 12, alike  # renewal's and login's steps, latency and failure rate
    assert [c for c in tested if c["flagged"]] == []
    assert "Defects seen: none" in done_second.stdout
    # Given with --baseline, the same: no margin of its own fails a clean run.
    judged = gate(second, first)
    assert judged.returncode == 0, judged.stdout + judged.stderr

    # The delayed campaign against the fault-free one beside it: the uploads, and only they.
    judged = gate(slowed, first)
    assert judged.returncode == 1, judged.stdout + judged.stderr
    flagged = [line for line in judged.stdout.splitlines() if line.startswith("shift flagged")]
    assert len(flagged) == 1, judged.stdout
    assert flagged[0].startswith("shift flagged (latency): renewal.upload: p75-90 "), judged.stdout
    (upload,) = [c for c in shift_of(slowed)["checks"] if c["flagged"]]
    assert upload["what"] == "latency"
    # Beyond the 30 ms bound, and within what a delay of 150 ms can do.
    assert 30 < upload["ci_low"] <= upload["effect"] <= upload["ci_high"] <= 200, upload
    assert upload["p_holm"] < 0.01
