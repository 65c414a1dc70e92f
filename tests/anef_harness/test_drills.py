"""The harness under fire: the platform killed and restarted, a worker killed, the harness itself
killed. Every attempted step ends in exactly one recorded outcome and nothing recorded is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.anef_harness.campaigns import ROOT, availability_slos, campaign, summary
from tests.support import free_port, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.load]

# Short deadlines, so that an attempt started before a drill ends soon after it.
SETTINGS = {"default_deadline": 4, "email_deadline": 4}
MARGIN = 1.5  # seconds: a loaded 2-core machine is late by this much at most
DOWN_PROMETHEUS = f"http://127.0.0.1:{free_port()}"  # nothing listens there
DOWN_GRAFANA = f"http://127.0.0.1:{free_port()}"


def raw_events(results: Path) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((results / "events").glob("*.jsonl")):
        for line in path.read_bytes().splitlines(keepends=True):
            if line.endswith(b"\n"):
                found.append((path.name, json.loads(line)))
    return found


def moments(results: Path) -> tuple[float, dict[str, tuple[float, float]]]:
    """The load's start (epoch) and, per drill, when it started and took effect (seconds since)."""
    manifest = json.loads((results / "manifest.json").read_text(encoding="utf-8"))
    t0 = datetime.fromisoformat(manifest["load_started"]).timestamp()
    changes = {}
    for change in manifest["fault_changes"]:
        assert change["error"] is None, change
        started = datetime.fromisoformat(change["started"]).timestamp() - t0
        changes[change["faults"]] = (started, datetime.fromisoformat(change["applied"]).timestamp() - t0)
    return t0, changes


def open_attempts(events: list[tuple[str, dict[str, Any]]]) -> Counter[str]:
    """Attempts announced without an outcome or a withdrawal, per events file (computed from the
    raw files, independently of the judgement)."""
    closed = {(e["journey_id"], e["seq"]) for _, e in events if e["kind"] in ("step", "withdrawn")}
    return Counter(name for name, e in events if e["kind"] == "attempt" and (e["journey_id"], e["seq"]) not in closed)


def check_accounting(results: Path) -> dict[str, Any]:
    judged = summary(results)
    for step, figures in judged["steps"].items():
        assert figures["attempted"] == sum(figures["outcomes"].values()), step
    accounting = judged["accounting"]
    assert accounting["attempted"] == accounting["outcomes"]
    assert accounting["duplicates"] == 0
    events = raw_events(results)
    recorded = Counter(e["step"] for _, e in events if e["kind"] == "step")
    unfinished = {step: figures["unfinished"] for step, figures in judged["steps"].items()}
    # Nothing recorded is lost: every outcome on disk is in the summary, plus the attempts closed.
    assert {step: figures["total"] - unfinished[step] for step, figures in judged["steps"].items()} == {
        step: recorded.get(step, 0) for step in judged["steps"]
    }
    assert accounting["unfinished"] == sum(open_attempts(events).values())
    pairs = Counter((e["journey_id"], e["seq"]) for _, e in events if e["kind"] == "step")
    assert max(pairs.values()) == 1, "a step attempt was recorded twice"
    return judged


def test_the_platform_killed_and_restarted_shows_as_failures_in_its_window_and_loses_nothing(tmp_path: Path) -> None:
    schedule = [
        {"at": "6s", "action": "kill_platform"},
        {"at": "10s", "action": "restart_platform"},
        {"at": "15s", "action": "stop_mailbox"},
        {"at": "19s", "action": "start_mailbox"},
    ]
    source = campaign(
        tmp_path,
        base="crash-drill",
        duration="26s",
        population={"size": 1500},
        journey_settings=SETTINGS,
        faults={"profile": "none", "schedule": schedule},
        slo=str(availability_slos(tmp_path)),
        # Prometheus and Grafana down all along: warnings, and the campaign goes on.
        outputs={"prometheus": DOWN_PROMETHEUS, "grafana": DOWN_GRAFANA},
    )
    out = tmp_path / "results"
    done = _run(source, "--out", out)
    assert done.returncode == 1, done.stdout + done.stderr  # the outage breaches availability: a fail, not a crash
    assert "status: complete" in done.stdout
    judged = check_accounting(out)
    assert judged["accounting"]["unfinished"] == 0  # no load process died
    _, drills = moments(out)
    killed, restarted = drills["kill_platform"][1], drills["restart_platform"][1]
    stopped, started = drills["stop_mailbox"][0], drills["start_mailbox"][1]
    steps = [e for _, e in raw_events(out) if e["kind"] == "step"]
    t0 = _t0(out)
    failures = [e for e in steps if e["outcome"] != "ok"]
    # Before the kill, nothing fails (faults are off); every failure is in the outage's window
    # (an attempt started up to a deadline before it may end in it) or the mailbox's.
    platform_window = (killed - SETTINGS["default_deadline"] - MARGIN, restarted + MARGIN)
    mailbox_window = (stopped - SETTINGS["email_deadline"] - MARGIN, started + MARGIN)
    for event in failures:
        at = event["time"] - t0
        in_platform = platform_window[0] <= at <= platform_window[1]
        in_mailbox = mailbox_window[0] <= at <= mailbox_window[1] and event["step"].startswith("password_reset.")
        assert in_platform or in_mailbox, (round(at, 2), event["step"], event.get("message"), drills)
    refused = [e for e in failures if killed <= e["time"] - t0 <= restarted and "refused" in e.get("message", "")]
    assert len(refused) >= 10, "the outage does not show"
    after = [e for e in steps if e["time"] - t0 > restarted + MARGIN and e["outcome"] == "ok"]
    assert len(after) >= 20, "the platform did not come back"
    warnings = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["warnings"]
    assert any(w.startswith("mailbox ") and "unreachable" in w for w in warnings), warnings
    assert any(w.startswith(f"prometheus {DOWN_PROMETHEUS} unreachable") for w in warnings), warnings
    assert any(w.startswith(f"Grafana dashboards not published: Grafana at {DOWN_GRAFANA}") for w in warnings)
    assert (out / "report.html").is_file()


def test_a_worker_killed_leaves_a_partial_run_with_no_step_counted_twice(tmp_path: Path) -> None:
    source = campaign(
        tmp_path,
        base="crash-drill",
        duration="20s",
        population={"size": 1500},
        journey_settings=SETTINGS,
        faults={"profile": "none", "schedule": [{"at": "8s", "action": "kill_worker", "worker": 1}]},
        slo=str(availability_slos(tmp_path)),
    )
    out = tmp_path / "results"
    done = _run(source, "--out", out, "--workers", "2")
    # A worker's applicants stopped at the kill: partial results, exit 3 as the gate would say.
    assert done.returncode == 3, done.stdout + done.stderr
    assert "a drill killed load process(es) locust-worker-1" in done.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "partial"
    assert manifest["killed_by_drill"] == ["locust-worker-1"]
    judged = check_accounting(out)
    assert judged["partial"] is True
    t0, drills = moments(out)
    killed = drills["kill_worker worker 1"][1]
    last = {}
    for name, event in raw_events(out):
        last[name] = max(last.get(name, 0.0), event["time"] - t0)
    silent = [name for name, at in last.items() if at < killed + 0.5]
    assert len(silent) == 1, last  # the killed worker's file ends at the kill; the other goes on
    assert max(last.values()) > killed + 5
    assert set(open_attempts(raw_events(out))) <= set(silent)


def test_after_the_harness_is_killed_report_and_gate_work_on_what_was_recorded(tmp_path: Path) -> None:
    source = campaign(
        tmp_path, duration="60s", population={"size": 1500}, browser={"users": 0}, journey_settings=SETTINGS
    )
    out = tmp_path / "results"
    harness = subprocess.Popen(
        [sys.executable, "-m", "anef_harness", "run", str(source), "--out", str(out), "--quiet", "--metrics-port", "0"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _steps_on_disk(out) >= 100, timeout=120, interval=0.2)
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    finally:
        harness.send_signal(signal.SIGKILL)
        harness.wait(timeout=10)
        killed = time.monotonic()
    # The load stops with the harness: a load tool whose conductor died must not go on sending.
    wait_until(lambda: not any(_alive(pid) for pid in manifest["pids"].values()), timeout=30, interval=0.02)
    assert time.monotonic() - killed < 1.0, "the load outlived its conductor by a second or more"
    recorded = _steps_on_disk(out)
    gate = subprocess.run(
        [sys.executable, "-m", "anef_harness", "gate", str(out)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    # The load ran on against the platform that died with the harness: whatever the verdict says,
    # half a run is not judged as a whole one (exit 3, the reason on one line, the verdict before it).
    assert gate.returncode == 3, gate.stdout + gate.stderr
    assert "verdict: " in gate.stdout
    assert "(partial results: the run is aborted; not a verdict)" in gate.stdout
    assert gate.stderr.splitlines() == [
        f"anef-harness: partial results: the harness (pid {harness.pid} on {manifest['conductor']['host']}) "
        "stopped before the end of the run (killed or crashed); a verdict on half a run is not a verdict"
    ]
    judged = check_accounting(out)
    assert judged["status"] == "aborted"
    assert judged["partial"] is True
    assert judged["accounting"]["outcomes"] - judged["accounting"]["unfinished"] == recorded
    (out / "summary.json").unlink()  # report judges by itself when there is no summary
    report = subprocess.run(
        [sys.executable, "-m", "anef_harness", "report", str(out), "--lang", "en"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert report.returncode == 0, report.stdout + report.stderr
    assert "judging what it recorded" in report.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Partial results" in html
    assert "aborted: the harness stopped without finishing it" in html


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anef_harness", "run", *map(str, args), "--quiet", "--metrics-port", "0"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def _t0(results: Path) -> float:
    return moments(results)[0]


def _steps_on_disk(results: Path) -> int:
    if not (results / "events").is_dir():
        return 0
    return sum(1 for _, e in raw_events(results) if e["kind"] == "step")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"  # a zombie has ended
