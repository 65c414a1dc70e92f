"""Prometheus rules generated from the SLOs: Sloth's names, promtool's checks and unit tests.

``promtool test rules`` evaluates the generated rules on synthetic series of the harness's
metrics: the page alert of an availability SLO fires at a 14.4× burn and stays silent at 1×; a
latency SLO reads the duration histogram's bucket. Debian's ``prometheus`` package provides
promtool (``scripts/setup`` installs it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from anef_harness.cli import app
from checks.slo import default_slo_path, load_slos
from dashboards.rules import SLOTH_WINDOWS, build_rules, write_rules
from tests.dashboards.slo_files import write_slo

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (scripts/setup installs it)")

META = (
    "slo:objective:ratio",
    "slo:error_budget:ratio",
    "slo:time_period:days",
    "slo:current_burn_rate:ratio",
    "slo:period_burn_rate:ratio",
    "slo:period_error_budget_remaining:ratio",
    "sloth_slo_info",
)


@pytest.fixture(scope="module")
def shipped_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rules") / "anef.rules.yaml"
    return write_rules(load_slos(default_slo_path()), out)


@pytest.fixture(scope="module")
def unit_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rules of the SLOs the unit tests feed (all 59 would make promtool evaluate 1,000 rules
    a minute over hours of synthetic series)."""
    wanted = {"login-submit-availability", "agent-request-send-latency"}
    objectives = [o for o in load_slos(default_slo_path()) if o.name in wanted]
    assert {o.name for o in objectives} == wanted
    return write_rules(objectives, tmp_path_factory.mktemp("rules") / "unit.rules.yaml")


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=120, check=False)


@needs_promtool
def test_promtool_accepts_the_rules_of_the_shipped_slos(shipped_rules: Path) -> None:
    done = _promtool("check", "rules", shipped_rules)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_slo_has_sloths_recordings_meta_and_alerts() -> None:
    objectives = load_slos(default_slo_path())
    groups = {group["name"]: group["rules"] for group in build_rules(objectives)["groups"]}
    for objective in objectives:
        sloth_id = f"{objective.service}-{objective.name}"
        sli = groups[f"sloth-slo-sli-recordings-{sloth_id}"]
        recorded = {rule["record"]: rule["labels"] for rule in sli}
        for window in (*SLOTH_WINDOWS, "30d"):
            labels = recorded[f"slo:sli_error:ratio_rate{window}"]
            assert labels["sloth_window"] == window
            assert (labels["sloth_id"], labels["sloth_service"], labels["sloth_slo"]) == (
                sloth_id,
                objective.service,
                objective.name,
            )
        meta = {rule["record"]: rule for rule in groups[f"sloth-slo-meta-recordings-{sloth_id}"]}
        assert set(meta) == set(META)
        assert meta["slo:objective:ratio"]["expr"] == f"vector({objective.target:g})"
        alerts = groups[f"sloth-slo-alerts-{sloth_id}"]
        assert sorted(rule["labels"]["sloth_severity"] for rule in alerts) == ["page", "ticket"]


def _alert(rules: dict[str, Any], slo: str, severity: str) -> dict[str, Any]:
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "alert" in rule and rule["labels"]["sloth_slo"] == slo and rule["labels"]["sloth_severity"] == severity:
                return rule
    raise AssertionError(f"no {severity} alert for {slo}")


def _recording_labels(rules: dict[str, Any], slo: str, window: str) -> dict[str, str]:
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("record") == f"slo:sli_error:ratio_rate{window}" and rule["labels"]["sloth_slo"] == slo:
                return dict(rule["labels"])
    raise AssertionError(f"no {window} recording for {slo}")


def _expected(rules: dict[str, Any], slo: str, severity: str, window: str) -> dict[str, Any]:
    """The alert as promtool reports it: the rule's labels over those of the recording that fired
    first (the left-most window pair), and the rule's static annotations."""
    alert = _alert(rules, slo, severity)
    return {
        "exp_labels": {**_recording_labels(rules, slo, window), **alert["labels"]},
        "exp_annotations": alert["annotations"],
    }


def _unit_test(tmp_path: Path, rules_file: Path, series: list[dict[str, str]], checks: list[dict[str, Any]]) -> str:
    test = {
        "rule_files": [str(rules_file)],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": checks}],
    }
    path = tmp_path / "test.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False), encoding="utf-8")
    done = _promtool("test", "rules", path)
    return done.stdout + done.stderr if done.returncode else ""


def _logins(ok_per_minute: int, errors_per_minute: int, minutes: int = 420) -> list[dict[str, str]]:
    series = 'anef_step_total{{journey="login",step="login.submit",outcome="{}"}}'
    return [
        {"series": series.format("ok"), "values": f"0+{ok_per_minute}x{minutes}"},
        {"series": series.format("error"), "values": f"0+{errors_per_minute}x{minutes}"},
    ]


@needs_promtool
def test_page_alert_fires_at_a_14_4x_burn(tmp_path: Path, unit_rules: Path) -> None:
    rules = yaml.safe_load(unit_rules.read_text())
    slo = "login-submit-availability"  # 99 %: a 14.4× burn is an error ratio of 14.4 %
    # Both severities fire (a 14.4× burn exceeds every factor); the page through its first
    # window pair, 14.4× over 1h and 5m, exactly at the factor.
    page, ticket = _expected(rules, slo, "page", "5m"), _expected(rules, slo, "ticket", "2h")
    checks = [{"eval_time": "10m", "alertname": "LoginSubmitAvailabilitySLO", "exp_alerts": [page, ticket]}]
    assert _unit_test(tmp_path, unit_rules, _logins(856, 144), checks) == ""


@needs_promtool
def test_page_alert_stays_silent_at_1x(tmp_path: Path, unit_rules: Path) -> None:
    """At 1× the budget lasts exactly the period: the ticket alert (1× over 3d/6h) fires, the
    page alert does not (page and ticket share the alert's name, as Sloth's do)."""
    rules = yaml.safe_load(unit_rules.read_text())
    slo = "login-submit-availability"
    ticket = _expected(rules, slo, "ticket", "6h")
    checks = [
        {"eval_time": t, "alertname": "LoginSubmitAvailabilitySLO", "exp_alerts": [ticket]} for t in ("10m", "1h", "7h")
    ]
    assert _unit_test(tmp_path, unit_rules, _logins(99, 1), checks) == ""
    # The same expectation fails at 14.4×: the page alert joins the ticket.
    assert 'sloth_severity="page"' in _unit_test(tmp_path, unit_rules, _logins(856, 144), checks[:1])


@needs_promtool
def test_latency_slo_reads_the_duration_histogram_bucket(tmp_path: Path, unit_rules: Path) -> None:
    """agent-request-send-latency: 95 % of attempts ok within 800 ms. With 20 % of ok attempts
    slower than 800 ms the burn is 4×: a ticket (3× over 1d/2h) but no page (6× over 6h/30m)."""
    rules = yaml.safe_load(unit_rules.read_text())
    slo = "agent-request-send-latency"
    labels = 'journey="agent_request",step="agent_request.send"'
    series = [
        {"series": f'anef_step_total{{{labels},outcome="ok"}}', "values": "0+100x200"},
        {"series": f'anef_step_duration_seconds_bucket{{{labels},le="0.8"}}', "values": "0+80x200"},
    ]
    name = "AgentRequestSendLatencySLO"
    checks = [
        {"eval_time": "150m", "alertname": name, "exp_alerts": [_expected(rules, slo, "ticket", "2h")]},
    ]
    assert _unit_test(tmp_path, unit_rules, series, checks) == ""
    page = _alert(rules, slo, "page")
    assert "anef_step_duration_seconds_bucket" not in page["expr"]  # alerts read the recordings
    recorded = next(
        rule["expr"]
        for group in rules["groups"]
        for rule in group["rules"]
        if rule.get("record") == "slo:sli_error:ratio_rate5m" and rule["labels"]["sloth_slo"] == slo
    )
    assert 'anef_step_duration_seconds_bucket{step="agent_request.send",le="0.8"}' in recorded


def test_rules_command_writes_a_file_and_prints_without_out(tmp_path: Path) -> None:
    out = tmp_path / "rules.yaml"
    done = CliRunner().invoke(app, ["rules", str(default_slo_path()), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert yaml.safe_load(out.read_text())["groups"]
    printed = CliRunner().invoke(app, ["rules"])
    assert printed.exit_code == 0
    assert yaml.safe_load(printed.output) == yaml.safe_load(out.read_text())


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (
            "{steps: [login.submit], outcomes: [ok], channel: browser}",
            "channel 'browser': the harness's metrics have no channel label",
        ),
        (
            "{steps: [login.submit], outcomes: [ok], max_duration_ms: 750}",
            "max_duration_ms 750 is not a bucket of anef_step_duration_seconds; expected one of 25, 50",
        ),
        (
            "{steps: [login.submit], outcomes: [ok, error], max_duration_ms: 800}",
            "a duration bound counts only ok attempts",
        ),
    ],
)
def test_an_slo_the_rules_cannot_express_is_one_line_and_exit_2(tmp_path: Path, selector: str, expected: str) -> None:
    path = write_slo(tmp_path / "slo.yaml", good=selector, total="{steps: [login.submit]}")
    done = CliRunner().invoke(app, ["rules", str(path)])
    assert done.exit_code == 2
    lines = done.output.strip().splitlines()
    assert len(lines) == 1, done.output
    assert str(path) in lines[0]
    assert "SLO login-fast" in lines[0]
    assert expected in lines[0]
