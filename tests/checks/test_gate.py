"""The gate: verdicts, exit codes (3 for results not whole), JUnit names, bad input (shifts: test_shift.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from junitparser import JUnitXml
from typer.testing import CliRunner

from anef_harness.cli import app
from checks.evaluate import evaluate
from checks.gate import Decision, decide
from checks.slo import load_slos
from core.exits import ExitCode
from scenarios.events import Event
from scenarios.manifest import process_identity
from tests.checks.test_accounting import results_folder
from tests.checks.test_store_and_rights import folder, step

SLO_FILE = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: login-submit-availability
spec:
  service: anef
  budgetingMethod: Occurrences
  objectives:
    - displayName: 99 % of logins succeed
      target: 0.99
  indicator:
    metadata:
      name: login-submit-ok
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: anef-harness
            spec: {steps: [login.submit], outcomes: [ok]}
        total:
          metricSource:
            type: anef-harness
            spec: {steps: [login.submit]}
"""


def slo_file(tmp_path: Path) -> Path:
    path = tmp_path / "slo.yaml"
    path.write_text(SLO_FILE)
    return path


def logins(ok: int, failed: int, duration: float = 10.0) -> list[Event]:
    events = [step("login.submit", duration=duration) for _ in range(ok)]
    return events + [step("login.submit", "error", duration, status=500, message="500") for _ in range(failed)]


def gate(*args: str | Path) -> Any:
    return CliRunner().invoke(app, ["gate", *map(str, args)])


def test_met_slo_and_no_defect_pass_with_exit_0(tmp_path: Path) -> None:
    results = folder(tmp_path / "r", logins(995, 5))
    done = gate(results, "--slo", slo_file(tmp_path))
    assert done.exit_code == 0, done.output
    assert "verdict: pass" in done.output
    summary = json.loads((results / "summary.json").read_text())
    assert summary["verdict"] == "pass"
    (slo,) = summary["slos"]
    assert slo == {
        "name": "login-submit-availability",
        "display_name": "99 % of logins succeed",
        "objective": 0.99,
        "sli": 0.995,
        "met": True,
        "good": 995,
        "total": 1000,
        "error_budget_consumed": 0.5,
        "burn_rate": 0.5,
    }
    for key in ("steps", "defects", "rights_at_risk", "journeys"):
        assert key in summary


def test_breached_slo_and_detected_defect_fail_with_exit_1_and_junit_names_them(tmp_path: Path) -> None:
    events = logins(90, 10)
    events.append(
        step(
            "renewal.reconcile",
            "lost",
            evidence={"dossier": "d" * 32, "waiting_for": "documents " + "e" * 32},
            message="not visible",
        )
    )
    results = folder(tmp_path / "r", events)
    junit = tmp_path / "out" / "junit.xml"
    done = gate(results, "--slo", slo_file(tmp_path), "--junit", junit)
    assert done.exit_code == 1, done.output
    assert "login-submit-availability" in done.output
    xml = JUnitXml.fromfile(str(junit))
    failed = {case.name for suite in xml for case in suite if case.result and case.result[0]._tag == "failure"}
    assert failed == {"login-submit-availability", "document_lost"}


def test_partial_results_are_judged_shown_and_exit_3_with_the_reason_on_one_line(tmp_path: Path) -> None:
    results = folder(tmp_path / "r", logins(100, 0), status="interrupted")
    done = gate(results, "--slo", slo_file(tmp_path))
    assert done.exit_code == 3, done.output
    assert "verdict: pass (partial results: the run is interrupted; not a verdict)" in done.stdout
    assert done.stderr.splitlines() == [
        "anef-harness: partial results: the run was interrupted (Ctrl-C or SIGTERM) before its end; "
        "a verdict on half a run is not a verdict"
    ]
    assert json.loads((results / "summary.json").read_text())["partial"] is True
    assert (results / "junit.xml").is_file()


def test_a_folder_whose_harness_was_killed_exits_3_even_with_slos_breached(tmp_path: Path) -> None:
    # The measured case: the load ran on against a dead platform, SLOs breached; exit 1 would
    # blame the platform for what the harness's death did.
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    killed = process_identity().model_copy(update={"pid": int(gone.stdout)})
    results = results_folder(tmp_path, {"worker-0.jsonl": list(logins(50, 50))}, status="running", conductor=killed)
    done = gate(results, "--slo", slo_file(tmp_path))
    assert done.exit_code == 3, done.output
    assert "SLOs breached" in done.stdout  # the verdict and its tables still come first
    assert "verdict: fail (partial results: the run is aborted; not a verdict)" in done.stdout
    [line] = done.stderr.splitlines()
    assert line == (
        f"anef-harness: partial results: the harness (pid {killed.pid} on {killed.host}) stopped before the end "
        "of the run (killed or crashed); a verdict on half a run is not a verdict"
    )


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        (
            {"status": "partial", "killed_by_drill": ["locust-worker-1"]},
            "a drill killed load process(es) locust-worker-1",
        ),
        (
            {"status": "partial", "warnings": ["load process(es) failed: locust-worker-0 (exit 1, log w.log)"]},
            "partial results: load process(es) failed: locust-worker-0 (exit 1, log w.log)",
        ),
        ({"status": "failed", "problem": "target unreachable"}, "aborted results: the run failed (target unreachable)"),
        ({"status": "running", "conductor": process_identity()}, "is still running this campaign"),
    ],
    ids=["drill-killed-worker", "worker-failed", "failed", "running"],
)
def test_results_not_whole_exit_3_whatever_the_verdict(tmp_path: Path, manifest: dict[str, Any], reason: str) -> None:
    results = results_folder(tmp_path, {"worker-0.jsonl": list(logins(100, 0))}, **manifest)
    done = gate(results, "--slo", slo_file(tmp_path))
    assert done.exit_code == 3, done.output
    assert "verdict: pass" in done.stdout
    [line] = done.stderr.splitlines()
    assert reason in line
    assert line.endswith("a verdict on half a run is not a verdict")


def test_run_and_gate_decide_with_one_function(tmp_path: Path) -> None:
    from anef_harness import conductor, gate_cli

    assert conductor.decide is gate_cli.decide is decide
    complete = evaluate(folder(tmp_path / "r", logins(90, 10)), load_slos(slo_file(tmp_path)))
    assert decide(complete) == Decision(ExitCode.FAILED)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda text: text.replace("target: 0.99", "target: 1.5"), "target"),
        (lambda text: text.replace("kind: SLO", "kind: SOL"), "did you mean 'SLO'"),
        (lambda text: text.replace("[login.submit], outcomes", "[login.sumbit], outcomes"), "login.submit"),
        (lambda text: text.replace("  service: anef\n", ""), "service"),
    ],
    ids=["target", "kind", "step", "missing-field"],
)
def test_a_malformed_slo_file_is_exit_2_with_one_line(tmp_path: Path, mutate: Any, expected: str) -> None:
    results = folder(tmp_path / "r", logins(10, 0))
    bad = tmp_path / "bad.yaml"
    bad.write_text(mutate(SLO_FILE))
    done = gate(results, "--slo", bad)
    assert done.exit_code == 2, done.output
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("anef-harness: ")
    assert str(bad) in lines[0]
    assert expected in lines[0]
    assert not (results / "summary.json").exists()


def test_a_results_folder_of_an_older_format_is_exit_2(tmp_path: Path) -> None:
    results = folder(tmp_path / "r", logins(10, 0))
    (results / "manifest.json").write_text(json.dumps({"status": "complete"}))
    done = gate(results, "--slo", slo_file(tmp_path))
    assert done.exit_code == 2
    assert "results format" in done.stderr
