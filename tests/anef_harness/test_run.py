"""``anef-harness run`` end to end: the embedded platform, real Locust processes, real results.

Each test runs a short campaign derived from ``campaigns/smoke.yaml`` in a child process and
judges its results folder: what a QA engineer or CI would read.
"""

from __future__ import annotations

import itertools
import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml
from junitparser import JUnitXml

from anef_harness.campaign import load_campaign
from anef_harness.processes import free_port
from scenarios.journeys import known_steps
from tests.anef_harness.campaigns import availability_slos, campaign, events, run, summary

pytestmark = [pytest.mark.slow, pytest.mark.load]

# "agent": the background agents' actions, recorded as steps like any journey's.
JOURNEYS = {"login", "password_reset", "renewal", "upload", "address_change", "agent_request", "card_handover", "agent"}

# Where each documented defect shows, by its nature (DESIGN.md's table): the step that watches
# the other side of the seam, or the step the wrong refusal or the missing procedure hits.
DEFECT_STEPS = {
    "title_not_marked_delivered": {
        "card_handover.visible",
        "agent.handover_visible",
        "renewal.choose_procedure",
        "renewal.create",
    },
    "phantom_pending_request": {"renewal.create", "address_change.create"},
    "reset_email_lost": {"password_reset.email"},
    "agent_request_hidden": {"agent_request.visible", "agent.complements_visible"},
    "document_lost": {"renewal.reconcile", "address_change.reconcile", "upload.reconcile"},
    "procedure_not_forwarded": {"address_change.reconcile"},
    # Every procedure is listed, available or not: renewal hidden shows in an address change too.
    "procedure_not_selectable": {"renewal.choose_procedure", "renewal.create", "address_change.choose_procedure"},
}


def test_smoke_with_faults_off_runs_every_journey_and_every_step_is_ok(tmp_path: Path) -> None:
    source = campaign(tmp_path, duration="20s", population={"size": 1500}, slo=str(availability_slos(tmp_path)))
    out = tmp_path / "results"
    nobody = f"http://127.0.0.1:{free_port()}"  # a Pushgateway that is down: a warning, the run goes on
    done = run(source, "--out", out, "--pushgateway", nobody)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("campaign.yaml", "manifest.json", "summary.json", "ledger.json", "events/worker-0.jsonl"):
        assert (out / name).is_file(), name
    for name in ("report.html", "prometheus-rules.yaml", "prometheus-targets.json", "grafana/anef-slos.json"):
        assert (out / name).is_file(), name
    assert (tmp_path / "history.sqlite").is_file()  # the results root: the folder of the results folder
    warnings = yaml.safe_load((out / "manifest.json").read_text()).get("warnings", [])
    assert any("Pushgateway" in w and nobody in w for w in warnings), warnings
    report = (out / "report.html").read_text(encoding="utf-8")
    assert 'class="banner pass"' in report
    assert 'class="defect documented"' not in report
    steps = events(out)
    assert {e["journey"] for e in steps} == JOURNEYS
    assert Counter(e["outcome"] for e in steps) == {"ok": len(steps)}
    browser = [e for e in steps if e["channel"] == "browser"]
    assert browser, "the browser process ran no journey"
    assert all("page_load_ms" in e["evidence"] for e in browser if not e["step"].endswith((".email", ".reconcile")))
    totals = Counter(e["step"] for e in steps)
    assert set(totals) <= set(known_steps()), "a journey recorded a step it does not declare"
    assert {name: s["total"] for name, s in summary(out)["steps"].items()} == dict(totals)
    manifest = yaml.safe_load((out / "manifest.json").read_text())
    assert manifest["status"] == "complete", (manifest.get("processes"), manifest.get("warnings"))
    assert load_campaign(out / "campaign.yaml").name == "smoke"  # the resolved campaign reloads as it ran
    assert "results: " in done.stdout
    assert "verdict: pass" in done.stdout


def test_outside_a_terminal_progress_is_timestamped_lines_and_json_output_is_one_document(tmp_path: Path) -> None:
    """What CI sees: a progress line every few seconds on stderr, then one JSON document on stdout,
    with a threshold judged as an SLO; Locust's own HTML report is kept in the folder."""
    source = campaign(
        tmp_path, duration="12s", population={"size": 1500}, browser={"users": 0}, slo=str(availability_slos(tmp_path))
    )
    out = tmp_path / "results"
    done = run(
        source, "--out", out, "--output", "json", "--threshold", "login.submit:fail<50%", "--users", "4", quiet=False
    )

    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(done.stdout)
    assert (document["verdict"], document["exit_code"], document["results"]) == ("pass", 0, str(out))
    assert document["steps"]["login.submit"]["total"] > 0
    assert any(slo["name"] == "threshold-login-submit-fail" and slo["met"] for slo in document["slos"])
    progress = re.findall(
        r"^\d\d:\d\d:\d\d smoke \d+s/12s.*: (\d+) attempts, [\d.]+% failed; worst: ", done.stderr, re.M
    )
    assert len(progress) >= 2, done.stderr  # every 5 s, and once at the end
    assert int(progress[-1]) == sum(step["total"] for step in document["steps"].values())
    assert "┏" not in done.stderr  # no live table redrawn into a log
    assert yaml.safe_load((out / "campaign.yaml").read_text())["load"]["users"] == 4
    assert (out / "locust.html").stat().st_size > 0


def test_documented_defects_fail_only_the_steps_where_they_live(tmp_path: Path) -> None:
    profile = tmp_path / "defects.yaml"
    faults = [
        {"id": "title_not_marked_delivered", "rate": 0.5},
        {"id": "phantom_pending_request", "rate": 0.3},
        {"id": "reset_email_lost", "rate": 0.4},
        {"id": "agent_request_hidden", "rate": 0.5},
        {"id": "document_lost", "rate": 0.1},
        {"id": "procedure_not_forwarded", "rate": 0.4, "params": {"procedures": ["address_change"]}},
        {"id": "procedure_not_selectable", "rate": 0.2, "params": {"procedure": "renewal"}},
    ]
    profile.write_text(yaml.safe_dump({"faults": faults}))
    source = campaign(
        tmp_path,
        duration="25s",
        population={"size": 2000},
        journey_settings={"default_deadline": 3, "email_deadline": 3},
        journeys={
            "login": 1,
            "password_reset": 2,
            "renewal": 3,
            "upload": 1,
            "address_change": 2,
            "agent_request": 2,
            "card_handover": 2,
        },
    )
    out = tmp_path / "results"
    done = run(source, "--faults", profile, "--out", out)
    assert done.returncode == 1, done.stdout + done.stderr
    failing = {e["step"] for e in events(out) if e["outcome"] != "ok"}
    allowed = set().union(*DEFECT_STEPS.values())
    assert failing <= allowed, f"failures outside the defects' steps: {failing - allowed}"
    gating = {d for d, found in summary(out)["defects"].items() if found["gating"]}
    assert gating == set(DEFECT_STEPS), f"not detected: {set(DEFECT_STEPS) - gating}"
    junit = JUnitXml.fromfile(str(out / "junit.xml"))
    failed = {
        (suite.name, case.name) for suite in junit for case in suite if case.result and case.result[0]._tag == "failure"
    }
    assert {name for suite, name in failed if suite == "defects"} == set(DEFECT_STEPS)
    assert any(suite == "slos" for suite, _ in failed), "no SLO breached at these rates"
    assert "Defects seen" in done.stdout
    assert "verdict: fail" in done.stdout
    report = (out / "report.html").read_text(encoding="utf-8")
    assert 'class="banner fail"' in report
    for defect in DEFECT_STEPS:  # each documented defect, told in the report's own words
        assert f'id="defect-{defect}"' in report, defect


def test_two_workers_split_the_population_and_never_share_an_applicant(tmp_path: Path) -> None:
    source = campaign(tmp_path, duration="20s", population={"size": 1500}, slo=str(availability_slos(tmp_path)))
    out = tmp_path / "results"
    done = run(source, "--workers", "2", "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = events(out)
    by_worker: dict[str, Counter[str]] = defaultdict(Counter)
    for event in steps:
        by_worker[event["worker"]][event["step"]] += 1
    # Two Locust workers and the browser process: three partitions of the population.
    assert set(by_worker) == {"worker-0", "worker-1", "browser-2"}
    for event in steps:
        assert event["applicant"] % 3 == int(event["worker"].rsplit("-", 1)[1])  # its own partition
    # Every applicant journey that starts on its own ran. The background agents' actions ("agent")
    # and the answer to their requests ("agent_request") wait for filed dossiers to reach their
    # queue, which a 20-second run on a loaded machine may not reach (seen at load average 8 to 11);
    # the one-worker run above asserts every journey.
    assert JOURNEYS - {"agent", "agent_request"} <= {e["journey"] for e in steps} <= JOURNEYS
    for name, step in summary(out)["steps"].items():
        assert step["total"] == sum(counts[name] for counts in by_worker.values())
    spans: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for journey in events(out, "journey"):
        spans[journey["applicant"]].append((journey["time"], journey["time"] + journey["duration_ms"] / 1000))
    for applicant, intervals in spans.items():
        intervals.sort()
        for (_, end), (start, _) in itertools.pairwise(intervals):
            assert start >= end - 0.001, f"applicant {applicant} was acted for twice at once"


def stalled(tmp_path: Path, name: str, load: dict[str, object]) -> tuple[np.ndarray, float]:
    """login.submit durations (ms) of a campaign with a 2-second stall at 6 s, and the share of
    login journeys the schedule puts inside the stall."""
    source = campaign(
        tmp_path,
        name=name,
        duration="16s",
        population={"size": 3000},
        journeys={"login": 1},
        agents={"users": 0},
        journey_settings={"pause": 0, "think_time_scale": 0},
        load=load,
        faults={
            "profile": "none",
            "schedule": [
                {"at": 6, "faults": [{"id": "latency", "rate": 1.0, "params": {"mean_ms": 2000, "jitter_ms": 0}}]},
                {"at": 8, "profile": "none"},
            ],
        },
    )
    out = tmp_path / name
    done = run(source, "--out", out)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: a latency SLO may be breached
    durations = np.array([e["duration_ms"] for e in events(out) if e["step"] == "login.submit"])
    return durations, 2.0 / 16.0


def test_open_model_shows_a_stall_that_the_closed_model_hides(tmp_path: Path) -> None:
    open_durations, share = stalled(tmp_path, "open", {"model": "open", "shape": "constant", "rate": 25, "users": 40})
    closed_durations, _ = stalled(tmp_path, "closed", {"model": "closed", "shape": "constant", "users": 3})
    # At a constant arrival rate, every journey due during the 2 s stall waits for it: about
    # 2/16 of them, so the p99 of login.submit is at least most of the stall.
    slow_share = float(np.mean(open_durations >= 1500))
    assert share / 2 <= slow_share <= share * 2, (slow_share, share)
    assert np.percentile(open_durations, 99) >= 1500
    # Three closed-model users wait out the stall once each and send nothing meanwhile: a
    # handful of slow samples among thousands, invisible at p99.
    assert np.percentile(closed_durations, 99) < 1000
    assert len(closed_durations) > 300


def test_ctrl_c_stops_cleanly_and_keeps_what_ran(tmp_path: Path) -> None:
    source = campaign(tmp_path, duration="2m", population={"size": 1000})
    out = tmp_path / "results"
    child = subprocess.Popen(
        [sys.executable, "-m", "anef_harness", "run", str(source), "--out", str(out), "--quiet", "--metrics-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(e["step"] == "renewal.reconcile" for e in _events_so_far(out)):
            assert time.monotonic() < deadline, "no journey completed within 60 s"
            assert child.poll() is None, child.communicate()
            time.sleep(0.2)
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 3, stdout + stderr
    assert "Traceback" not in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert (out / "oracle" / "worker-0.json").is_file()  # Locust stopped through its quitting hooks
    steps = events(out)
    assert steps
    assert {n: s["total"] for n, s in summary(out)["steps"].items()} == dict(Counter(e["step"] for e in steps))
    assert "interrupted" in stdout


def _events_so_far(out: Path) -> list[dict[str, object]]:
    try:
        return events(out)
    except (FileNotFoundError, json.JSONDecodeError):
        return []
