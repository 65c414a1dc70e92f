"""Prometheus rules generated from the SLOs: Sloth's names, promtool's checks and unit tests.

``promtool test rules`` evaluates the generated rules on synthetic series of the harness's
metrics: the page alert of an availability SLO fires at a 14.4× burn and stays silent at 1×; a
latency SLO reads the duration histogram's bucket. Debian's ``prometheus`` package provides
promtool (``scripts/setup`` installs it).
"""

from __future__ import annotations

import re
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


def _expected(rules: dict[str, Any], slo: str, severity: str) -> dict[str, Any]:
    """The alert as promtool reports it: the recordings' labels but sloth_window (Sloth's
    ``max(…) without (sloth_window)``), the rule's labels, and its static annotations."""
    alert = _alert(rules, slo, severity)
    labels = {k: v for k, v in _recording_labels(rules, slo, "5m").items() if k != "sloth_window"}
    return {"exp_labels": {**labels, **alert["labels"]}, "exp_annotations": alert["annotations"]}


def _unit_test(
    tmp_path: Path,
    rules_file: Path,
    series: list[dict[str, str]],
    checks: list[dict[str, Any]],
    queries: list[dict[str, Any]] | None = None,
) -> str:
    """promtool's verdict on ``checks`` (alert_rule_test) and ``queries`` (promql_expr_test): "" when
    they all pass, promtool's report when not."""
    test: dict[str, Any] = {"interval": "1m", "input_series": series, "alert_rule_test": checks}
    if queries:
        test["promql_expr_test"] = queries
    test = {"rule_files": [str(rules_file)], "evaluation_interval": "1m", "tests": [test]}
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
    page, ticket = _expected(rules, slo, "page"), _expected(rules, slo, "ticket")
    checks = [{"eval_time": "10m", "alertname": "LoginSubmitAvailabilitySLO", "exp_alerts": [page, ticket]}]
    assert _unit_test(tmp_path, unit_rules, _logins(856, 144), checks) == ""


@needs_promtool
def test_page_alert_stays_silent_at_1x(tmp_path: Path, unit_rules: Path) -> None:
    """At 1× the budget lasts exactly the period: the ticket alert (1× over 3d/6h) fires, the
    page alert does not (page and ticket share the alert's name, as Sloth's do)."""
    rules = yaml.safe_load(unit_rules.read_text())
    slo = "login-submit-availability"
    ticket = _expected(rules, slo, "ticket")
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
        {"eval_time": "150m", "alertname": name, "exp_alerts": [_expected(rules, slo, "ticket")]},
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


# --- one alert per incident -----------------------------------------------------------------------

INCIDENT = (60, 240)  # minutes: 20 % of logins fail (a 20× burn of a 99 % SLO) for three hours
PAGE = 'ALERTS{alertname="LoginSubmitAvailabilitySLO", sloth_severity="page", alertstate="firing"}'


def _incident_logins(minutes: int = 330) -> list[dict[str, str]]:
    """1,000 logins a minute; 200 of them fail during ``INCIDENT``, none outside it."""
    start, end = INCIDENT
    ok, errors, ok_values, error_values = 0, 0, [], []
    for minute in range(minutes + 1):
        ok_values.append(str(ok))
        error_values.append(str(errors))
        failing = 200 if start <= minute < end else 0
        ok, errors = ok + 1000 - failing, errors + failing
    series = 'anef_step_total{{journey="login",step="login.submit",outcome="{}"}}'
    return [
        {"series": series.format("ok"), "values": " ".join(ok_values)},
        {"series": series.format("error"), "values": " ".join(error_values)},
    ]


def _series(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{key}="{value}"' for key, value in sorted(labels.items())) + "}"


def _one_page_per_incident(rules: dict[str, Any]) -> list[dict[str, Any]]:
    """promtool checks: the page alert fires with the same labels all through the incident (the
    30m/6h pair fires first, the 5m/1h pair joins it), and it was one series from start to end."""
    labels = {
        "__name__": "ALERTS",
        "alertname": "LoginSubmitAvailabilitySLO",
        "alertstate": "firing",
        **_expected(rules, "login-submit-availability", "page")["exp_labels"],
    }
    during = [
        {"expr": PAGE, "eval_time": f"{minute}m", "exp_samples": [{"labels": _series(labels), "value": 1}]}
        for minute in range(100, 251, 10)
    ]
    before = [{"expr": PAGE, "eval_time": "65m", "exp_samples": []}]
    whole = [
        {
            "expr": f"count(count_over_time({PAGE}[330m]))",
            "eval_time": "330m",
            "exp_samples": [{"labels": "{}", "value": 1}],
        }
    ]
    return before + during + whole


@needs_promtool
def test_a_three_hour_incident_is_one_page_alert_from_start_to_end(tmp_path: Path, unit_rules: Path) -> None:
    rules = yaml.safe_load(unit_rules.read_text())
    queries = _one_page_per_incident(rules)

    assert _unit_test(tmp_path, unit_rules, _incident_logins(), [], queries) == ""

    # The same checks fail on the rules as they were, each window pair's labels (sloth_window)
    # passed to the alert: the page changed identity when the 5m/1h pair took over.
    text = unit_rules.read_text()
    per_window = re.sub(
        r"^(\s+)(and|or)$",
        r"\1\2 ignoring (sloth_window)",
        text.replace("max(slo:", "(slo:").replace(" without (sloth_window)", ""),
        flags=re.MULTILINE,
    )
    assert per_window != text
    old = tmp_path / "per-window.rules.yaml"
    old.write_text(per_window, encoding="utf-8")
    report = _unit_test(tmp_path, old, _incident_logins(), [], queries)
    assert "sloth_window" in report


@needs_promtool
def test_at_a_1x_burn_no_page_ever_fires(tmp_path: Path, unit_rules: Path) -> None:
    """Seven hours at exactly the budget's pace: the ticket (1× over 3d and 6h) fires, no page does."""
    page = 'ALERTS{alertname="LoginSubmitAvailabilitySLO", sloth_severity="page"}'  # pending or firing
    ticket = 'ALERTS{alertname="LoginSubmitAvailabilitySLO", sloth_severity="ticket", alertstate="firing"}'
    queries: list[dict[str, Any]] = [
        {"expr": f"count_over_time({page}[420m])", "eval_time": "420m", "exp_samples": []},
        {
            "expr": f"count(count_over_time({ticket}[420m]))",
            "eval_time": "420m",
            "exp_samples": [{"labels": "{}", "value": 1}],
        },
    ]

    assert _unit_test(tmp_path, unit_rules, _logins(99, 1), [], queries) == ""
    # At 14.4× the same expectation fails: the page fires.
    assert "LoginSubmitAvailabilitySLO" in _unit_test(tmp_path, unit_rules, _logins(856, 144), [], queries[:1])


# --- OpenSLO read as v1 says ----------------------------------------------------------------------

GOOD, TOTAL = "{steps: [login.submit], outcomes: [ok]}", "{steps: [login.submit]}"


def _rules_of(path: Path) -> dict[str, Any]:
    return build_rules(load_slos(path), str(path))


@needs_promtool
@pytest.mark.parametrize(("window", "days"), [("1M", "30"), ("1Q", "90"), ("1Y", "365"), ("2w", "14")])
def test_calendar_units_become_promql_days_promtool_accepts(tmp_path: Path, window: str, days: str) -> None:
    page = {"severity": "page", "threshold": "14.4", "lookback": "1h"}
    path = write_slo(tmp_path / "slo.yaml", good=GOOD, total=TOTAL, window=window, conditions=[page])
    out = write_rules(load_slos(path), tmp_path / "rules.yaml")

    done = _promtool("check", "rules", out)

    assert done.returncode == 0, done.stdout + done.stderr
    text = out.read_text()
    period = f"{days}d" if window != "2w" else "2w"  # PromQL has w, not M, Q (nor a 365-day-only Y)
    assert f"[{period}]" in text
    assert window == period or f"[{window}]" not in text
    assert f"slo:sli_error:ratio_rate{period}" in text
    meta = {r["record"]: r for g in yaml.safe_load(text)["groups"] for r in g["rules"] if "record" in r}
    assert meta["slo:time_period:days"]["expr"] == f"vector({days})"


def test_alert_after_is_the_alerts_for_and_the_short_window_is_a_twelfth(tmp_path: Path) -> None:
    """OpenSLO's alertAfter: "the duration the condition needs to be valid for before alerting"."""
    conditions = [
        {"severity": "page", "threshold": "14.4", "lookback": "1h", "after": "2m"},
        {"severity": "page", "threshold": "6", "lookback": "6h", "after": "2m", "short": "20m"},
    ]
    path = write_slo(tmp_path / "slo.yaml", good=GOOD, total=TOTAL, conditions=conditions)

    page = _alert(_rules_of(path), "login-fast", "page")

    assert page["for"] == "2m"
    assert "ratio_rate5m{" in page["expr"]  # 1h / 12
    assert "ratio_rate20m{" in page["expr"]  # the annotation
    assert "ratio_rate30m{" not in page["expr"]


def test_conditions_of_one_severity_must_agree_on_alert_after(tmp_path: Path) -> None:
    conditions = [
        {"severity": "page", "threshold": "14.4", "lookback": "1h", "after": "2m"},
        {"severity": "page", "threshold": "6", "lookback": "6h"},
    ]
    path = write_slo(tmp_path / "slo.yaml", good=GOOD, total=TOTAL, conditions=conditions)

    done = CliRunner().invoke(app, ["rules", str(path)])

    assert done.exit_code == 2
    assert "the page conditions give different alertAfter (condition-0 2m, condition-1 0m)" in done.output


def test_a_free_severity_is_the_alerts_sloth_severity(tmp_path: Path) -> None:
    conditions = [
        {"severity": "sev1", "threshold": "14.4", "lookback": "1h"},
        {"severity": "warning", "threshold": "1", "lookback": "3d"},
    ]
    path = write_slo(tmp_path / "slo.yaml", good=GOOD, total=TOTAL, conditions=conditions)

    rules = _rules_of(path)

    assert _alert(rules, "login-fast", "sev1")["labels"]["severity"] == "sev1"
    assert "ratio_rate6h{" in _alert(rules, "login-fast", "warning")["expr"]  # 3d / 12
    assert "for" not in _alert(rules, "login-fast", "warning")


@pytest.mark.parametrize(
    ("short", "expected"),
    [
        ("1 minute", "expected a duration such as 5m or 30m, got '1 minute'"),
        ("2h", "the short window must be shorter than lookbackWindow 1h, got '2h'"),
    ],
)
def test_a_bad_short_window_annotation_is_one_line(tmp_path: Path, short: str, expected: str) -> None:
    conditions = [{"severity": "page", "threshold": "14.4", "lookback": "1h", "short": short}]
    path = write_slo(tmp_path / "slo.yaml", good=GOOD, total=TOTAL, conditions=conditions)

    done = CliRunner().invoke(app, ["slo", "check", str(path)])

    assert done.exit_code == 2
    assert (
        f"SLO login-fast: alertPolicies.0.spec.conditions.0.metadata.annotations.anef-harness/short-window: {expected}"
        in done.output
    )


def test_an_slo_over_prometheus_metrics_is_valid_but_not_turned_into_rules(tmp_path: Path) -> None:
    prometheus = "{type: Prometheus, spec: {query: 'sum(rate(http_requests_total[5m]))'}}"
    path = write_slo(tmp_path / "slo.yaml", good=GOOD, total=TOTAL)
    path.write_text(
        path.read_text()
        .replace("type: anef-harness\n            spec: ", "")
        .replace(GOOD, prometheus)
        .replace(TOTAL, prometheus)
        .replace("metricSource:\n            ", "metricSource: ")
    )

    checked = CliRunner().invoke(app, ["slo", "check", str(path)])
    refused = CliRunner().invoke(app, ["rules", str(path)])

    assert checked.exit_code == 0, checked.output
    assert "1 SLO on other tools' metrics (Prometheus), valid but not evaluated" in checked.output
    assert refused.exit_code == 2
    assert "'Prometheus': the SLO reads another tool's metrics" in refused.output
    assert "kept for the live rules" not in refused.output
