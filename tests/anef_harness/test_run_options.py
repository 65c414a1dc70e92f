"""``anef-harness run``'s options without a run: overrides and thresholds reach the conductor, bad
ones are refused in one line (exit 2), ``--output json`` is one document, ``demo`` exits 0 on its
designed "fail", ``campaigns`` and ``--version``. The conductor is replaced: no load is sent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from anef_harness import run_cli
from anef_harness.campaign import Campaign, shipped_campaigns
from anef_harness.cli import app
from anef_harness.conductor import RunOptions, RunResult
from checks.defects import Findings
from checks.evaluate import SloResult, Summary
from checks.summary import StepFigures
from tests.anef_harness.campaigns import ROOT

SMOKE = Path(__file__).resolve().parents[2] / "campaigns" / "smoke.yaml"
NO_METRICS = ("--no-metrics",)


class Conductor:
    """Stands in for ``run_campaign``: keeps what it was given, returns a chosen result."""

    def __init__(self, tmp_path: Path, exit_code: int = 0, *, judged: bool = True) -> None:
        self.results = tmp_path / "results"
        self.exit_code = exit_code
        self.judged = judged
        self.calls: list[tuple[Campaign, RunOptions]] = []

    def __call__(self, campaign: Campaign, options: RunOptions, *args: Any, **kwargs: Any) -> RunResult:
        self.calls.append((campaign, options))
        self.results.mkdir(exist_ok=True)
        summary = judged_summary(breached=self.exit_code == 1) if self.judged else None
        status = "complete" if self.judged else "failed"
        problem = None if self.judged else "target unreachable"
        return RunResult(self.results, self.exit_code, status, summary, problem)


def judged_summary(*, breached: bool) -> Summary:
    step = StepFigures(total=123_456_789, outcomes={"ok": 123_456_700, "error": 89}, failure_rate=89 / 123_456_789)
    good = 90 if breached else 100
    return Summary(
        campaign="smoke",
        status="complete",
        partial=False,
        steps={"login.submit": step},
        journeys={},
        slos=[SloResult("threshold-login-submit-fail", "--threshold login.submit:fail<1%", 0.99, good, 100)],
        findings=Findings(),
        rights=None,
    )


@pytest.fixture
def conductor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Conductor:
    replaced = Conductor(tmp_path)
    monkeypatch.setattr(run_cli, "run_campaign", replaced)
    return replaced


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_overrides_reach_the_campaign_in_order_and_named_options_win(conductor: Conductor) -> None:
    done = invoke(
        "run", str(SMOKE), *NO_METRICS, "--set", "load.users=50", "--set", "journey_settings.pause=0.5",
        "--set", "faults.profile=anef-2024", "--users", "7",
    )  # fmt: skip

    assert done.exit_code == 0, (done.output, done.exception)
    campaign, _ = conductor.calls[0]
    assert campaign.load.users == 7
    assert campaign.journey_settings.pause == 0.5
    assert campaign.faults.profile == "anef-2024"
    assert campaign.journey_settings.think_time_scale == 0.02  # the rest of the section is the file's


def test_rate_overrides_an_open_campaign(conductor: Conductor) -> None:
    done = invoke("run", str(SMOKE), *NO_METRICS, "--set", "load.model=open", "--rate", "2.5")

    assert done.exit_code == 0, (done.output, done.exception)
    assert conductor.calls[0][0].load.rate == 2.5


def test_thresholds_reach_the_conductor_as_objectives(conductor: Conductor) -> None:
    done = invoke(
        "run", str(SMOKE), *NO_METRICS, "--threshold", "renewal.submit:p95<800ms", "--threshold", "login.submit:fail<1%"
    )

    assert done.exit_code == 0, (done.output, done.exception)
    _, options = conductor.calls[0]
    assert [o.name for o in options.thresholds] == ["threshold-renewal-submit-p95", "threshold-login-submit-fail"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--set", "load.users=abc"), "anef-harness: --set load.users=abc: load.users: "),
        (("--set", "load.userz=5"), "--set load.userz=5: load.userz: unknown field; did you mean 'users'"),
        (("--set", "load.users"), "anef-harness: --set: expected KEY=VALUE"),
        (("--set", "load.users=[1, 2]"), "anef-harness: --set load.users=[1, 2]: expected a YAML scalar"),
        (("--set", "duration.unit=s"), "anef-harness: --set duration.unit=s: duration is not a section"),
        (("--set", "population.shares.card_handed_over=2"), "population.shares.card_handed_over: "),
        (("--users", "0"), "anef-harness: --users 0: load.users: "),
        (("--rate", "5"), "anef-harness: --rate 5: the campaign's load model is closed"),
        (("--set", "load.model=open", "--rate", "-1"), "anef-harness: --rate -1: load.rate: "),
        (("--threshold", "renewal.submit<800"), "anef-harness: --threshold: expected STEP:pNN<DURATION"),
        (("--threshold", "login.submt:fail<1%"), "did you mean 'login.submit'?"),
        (("--output", "yaml"), "'yaml' is not one of"),
    ],
)
def test_a_bad_override_or_threshold_is_refused_in_one_line(
    args: tuple[str, ...], expected: str, conductor: Conductor
) -> None:
    done = invoke("run", str(SMOKE), *NO_METRICS, *args)

    assert done.exit_code == 2, (done.output, done.exception)
    assert conductor.calls == []
    assert done.stdout == ""
    if args[0] == "--output":  # Click's own refusal: its usage box, not our line
        assert expected in done.stderr
        return
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert expected in lines[0], lines[0]
    assert "Traceback" not in done.stderr


def test_json_output_is_one_document_with_the_verdict_steps_slos_and_folder(conductor: Conductor) -> None:
    conductor.exit_code = 1
    done = invoke("run", str(SMOKE), *NO_METRICS, "--output", "json")

    assert done.exit_code == 1, (done.output, done.exception)
    document = json.loads(done.stdout)  # nothing else on stdout
    assert document["verdict"] == "fail"
    assert (document["exit_code"], document["meaning"], document["status"]) == (1, "fail", "complete")
    assert document["results"] == str(conductor.results)
    assert document["steps"]["login.submit"]["total"] == 123_456_789
    assert document["slos"][0]["name"] == "threshold-login-submit-fail"
    assert document["slos"][0]["met"] is False
    assert document["defects"] == {}


def test_json_output_of_a_run_that_could_not_be_judged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_cli, "run_campaign", Conductor(tmp_path, 3, judged=False))

    done = invoke("run", str(SMOKE), *NO_METRICS, "--output", "json")

    assert done.exit_code == 3
    document = json.loads(done.stdout)
    assert (document["verdict"], document["problem"], document["steps"]) == (None, "target unreachable", {})


def test_text_output_prints_the_table_once_with_whole_numbers(conductor: Conductor) -> None:
    done = invoke("run", str(SMOKE), *NO_METRICS)

    assert done.exit_code == 0
    assert done.stdout.count("login.submit") == 1
    assert "123456789" in done.stdout
    assert "…" not in done.stdout
    assert "verdict: pass" in done.stdout


class NoMetrics:
    def __init__(self, port: int) -> None:
        pass

    def stop(self) -> None:
        pass


@pytest.mark.parametrize(("run_exit", "demo_exit"), [(0, 0), (1, 0), (3, 3)])
def test_demo_exits_0_when_it_ran_and_was_judged(
    run_exit: int, demo_exit: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_cli, "run_campaign", Conductor(tmp_path, run_exit, judged=run_exit != 3))
    monkeypatch.setattr(run_cli, "LiveMetrics", NoMetrics)  # the demo serves metrics on the file's port

    done = invoke("demo")

    assert done.exit_code == demo_exit, (done.output, done.exception)
    assert f"exit {run_exit} (" in done.stdout  # run's own code is still said
    assert ("the verdict is fail, as designed" in done.stdout) == (run_exit == 1)


def test_campaigns_lists_every_shipped_campaign() -> None:
    done = invoke("campaigns")

    assert done.exit_code == 0, done.output
    shipped = shipped_campaigns()
    assert {c.path.stem for c in shipped} >= {"smoke", "peak", "soak", "anef-2024-drill", "demo"}
    for campaign in shipped:
        assert campaign.duration is not None, campaign.load  # every shipped file loads
        assert campaign.path.stem in done.stdout
        assert campaign.description in done.stdout
    smoke = next(line for line in done.stdout.splitlines() if " smoke " in line)
    assert "60s" in smoke
    assert "12 users" in smoke
    assert "1h" in next(line for line in done.stdout.splitlines() if " soak " in line)


def test_version() -> None:
    done = invoke("--version")

    assert done.exit_code == 0
    assert done.stdout.startswith("anef-harness ")
    assert done.stdout.split()[1][0].isdigit()


@pytest.mark.parametrize("master", ["10.0.0.5", "10.0.0.5:http", "[::1]:70000"])
def test_a_worker_refuses_a_master_address_that_is_not_host_and_port(master: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "anef_harness", "worker", "--master", master],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 2
    refusal = f"anef-harness: --master: expected HOST:PORT (e.g. 10.0.0.5:5557), got {master!r}"
    assert done.stderr.splitlines() == [refusal]
