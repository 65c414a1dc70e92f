"""Detection drill: the seven documented defects at rate 0.3 on the embedded platform, scored against
the ledger: every firing caught (recall 1.0 per defect), no false detection; and a fault-free
campaign in which nothing at all is detected.

The defects share two campaigns instead of seven (the drill must stay under a few minutes on two
cores); each defect's recall is computed from its own firings only, so sharing hides nothing, and
a detection of one defect caused by another would show as a false detection. Two campaigns
because of what the journeys can see:
- ``renewal-side``: no address_change journey, since listing the procedures for an address change
  draws ``procedure_not_selectable`` (which targets renewal) where no journey looks for renewal;
- ``address-side``: address changes file the dossiers that ``agent_request`` needs (renewals are
  mostly stopped by the other defects in the first campaign).
Both run without background agents (``agents.users: 0``): an agent working the queue hands cards
over and no journey watches those applicants' dashboards, so ``title_not_marked_delivered`` firings
there would be invisible to the harness (a blind spot the benchmark reports, not a detector's miss).
The three campaigns run in parallel: about 50 s on two cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from checks.score import Score, score
from contracts.faults import DOCUMENTED
from tests.anef_harness.campaigns import ROOT, campaign

pytestmark = [pytest.mark.slow, pytest.mark.load]

RATE = 0.3
SETTINGS = {"default_deadline": 6, "email_deadline": 6}  # normal lag is well under 0.5 s
DRILLS: dict[str, tuple[list[dict[str, Any]], dict[str, int]]] = {
    "renewal-side": (
        [
            {"id": "title_not_marked_delivered", "rate": RATE},
            {"id": "reset_email_lost", "rate": RATE},
            {"id": "procedure_not_selectable", "rate": RATE, "params": {"procedure": "renewal"}},
            {"id": "phantom_pending_request", "rate": RATE},
            {"id": "document_lost", "rate": RATE},
            {"id": "procedure_not_forwarded", "rate": RATE},
        ],
        {
            "login": 1,
            "password_reset": 3,
            "renewal": 4,
            "upload": 2,
            "address_change": 0,
            "agent_request": 2,
            "card_handover": 3,
        },
    ),
    "address-side": (
        [
            {"id": "agent_request_hidden", "rate": RATE},
            {"id": "phantom_pending_request", "rate": RATE},
            {"id": "procedure_not_forwarded", "rate": RATE},
        ],
        {
            "login": 1,
            "password_reset": 0,
            "renewal": 1,
            "upload": 1,
            "address_change": 4,
            "agent_request": 4,
            "card_handover": 0,
        },
    ),
}


@dataclass
class Drill:
    name: str
    faults: list[dict[str, Any]]
    out: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def configured(self) -> set[str]:
        return {fault["id"] for fault in self.faults}


def start(folder: Path, name: str, faults: list[dict[str, Any]], **changes: Any) -> Drill:
    folder.mkdir(parents=True)
    source = campaign(folder, name=name, duration="25s", population={"size": 2000}, browser={"users": 0}, **changes)
    profile = folder / "faults.yaml"
    profile.write_text(yaml.safe_dump({"faults": faults}), encoding="utf-8")
    out, log = folder / "results", folder / "run.log"
    command = [
        sys.executable,
        "-m",
        "anef_harness",
        "run",
        str(source),
        "--faults",
        str(profile),
        "--out",
        str(out),
        "--metrics-port",
        "0",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--quiet"], stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, "COLUMNS": "200"}
        )
    return Drill(name, faults, out, process, log)


@pytest.fixture(scope="module")
def drills(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Drill]]:
    root = tmp_path_factory.mktemp("drill")
    started = {
        name: start(root / name, name, faults, journeys=weights, agents={"users": 0}, journey_settings=SETTINGS)
        for name, (faults, weights) in DRILLS.items()
    }
    started["fault-free"] = start(root / "fault-free", "fault-free", [], journey_settings=SETTINGS)
    try:
        for drill in started.values():
            drill.process.wait(timeout=240)
        yield started
    finally:
        for drill in started.values():
            if drill.process.poll() is None:
                drill.process.kill()


def scored(drill: Drill) -> Score:
    log = drill.log.read_text(encoding="utf-8", errors="replace")
    assert drill.process.returncode in (0, 1), f"{drill.name} exited {drill.process.returncode}:\n{log[-3000:]}"
    assert '"status": "complete"' in (drill.out / "manifest.json").read_text(), log[-3000:]
    return score(drill.out)


def test_each_documented_defect_is_caught_every_time_it_fires(drills: dict[str, Drill]) -> None:
    fired: dict[str, int] = dict.fromkeys(DOCUMENTED, 0)
    for drill in drills.values():
        if not drill.configured:
            continue
        for defect, result in scored(drill).defects.items():
            if defect not in drill.configured:
                continue
            fired[defect] += result.injected
            missed = f"{drill.name}: {defect} missed {result.injected - result.matched}: {result.missed}"
            assert result.matched == result.injected, missed
            if result.injected:
                assert result.recall == 1.0
    assert all(fired.values()), f"defects that never fired (the drill proves nothing for them): {fired}"


def test_the_drills_detect_nothing_that_was_not_injected(drills: dict[str, Drill]) -> None:
    for drill in drills.values():
        if drill.configured:
            for defect, result in scored(drill).defects.items():
                assert result.false_detections == 0, f"{drill.name}: {defect}: {result.false}"


def test_a_fault_free_campaign_detects_nothing(drills: dict[str, Drill]) -> None:
    result = scored(drills["fault-free"])
    assert {d: (r.injected, r.detected) for d, r in result.defects.items() if r.injected or r.detected} == {}
    assert set(result.defects) == set(DOCUMENTED)
    assert all(r.eligible for d, r in result.defects.items() if d != "procedure_not_selectable")
