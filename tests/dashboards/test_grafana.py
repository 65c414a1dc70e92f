"""The Grafana dashboards built from the shipped SLO file: valid JSON models, queries Prometheus can
run once Grafana's variables are replaced, and provisioning files Grafana can read."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from anef_harness import dashboards_cli
from checks.slo import Objective, default_slo_path, load_slos
from core.errors import ConfigError
from dashboards.grafana import (
    CAMPAIGN_FILE,
    PLACEHOLDER_PROMETHEUS_URL,
    SLO_FILE,
    build_dashboards,
    concrete,
    panel_queries,
    write_dashboards,
)

PROMTOOL = "/usr/bin/promtool"


@pytest.fixture(scope="module")
def objectives() -> list[Objective]:
    return load_slos(default_slo_path())


@pytest.fixture(scope="module")
def models(objectives: list[Objective]) -> dict[str, dict[str, Any]]:
    return build_dashboards(objectives, datasource_uid="prom-test")


def _panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel that is not a row, rows' own panels included."""
    found: list[dict[str, Any]] = []
    for panel in model["panels"]:
        found.extend(panel.get("panels") or [])
        if panel["type"] != "row":
            found.append(panel)
    return found


def _variable(model: dict[str, Any], name: str) -> dict[str, Any]:
    return next(variable for variable in model["templating"]["list"] if variable["name"] == name)


def test_two_dashboards_with_stable_uids_tags_time_and_refresh(models: dict[str, dict[str, Any]]) -> None:
    assert set(models) == {SLO_FILE, CAMPAIGN_FILE}
    assert models[SLO_FILE]["uid"] == "anef-slos"
    assert models[CAMPAIGN_FILE]["uid"] == "anef-campaign"
    for model in models.values():
        assert model["title"]
        assert model["tags"] == ["anef-harness"]
        assert model["time"] == {"from": "now-1h", "to": "now"}
        assert model["refresh"] == "10s"
        json.dumps(model)  # plain JSON, nothing left of the SDK's objects


def test_every_panel_queries_the_data_source_with_numbered_targets(models: dict[str, dict[str, Any]]) -> None:
    for name, model in models.items():
        panels = _panels(model)
        assert len(panels) >= 6, name
        ids = [panel["id"] for panel in model["panels"]]
        assert len(ids) == len(set(ids)), f"{name}: panel ids repeat: {ids}"
        for panel in panels:
            where = f"{name}: {panel['title']}"
            assert panel["datasource"] == {"type": "prometheus", "uid": "prom-test"}, where
            assert panel.get("description"), where
            targets = panel.get("targets") or []
            assert targets, f"{where}: no target"
            assert all(target["expr"].strip() for target in targets), where
            assert all(target["datasource"]["uid"] == "prom-test" for target in targets), where
            ref_ids = [target["refId"] for target in targets]
            assert ref_ids == list("ABCD"[: len(ref_ids)]), f"{where}: refIds {ref_ids}"


def test_the_slo_overview_names_every_slo_of_the_file(
    objectives: list[Objective], models: dict[str, dict[str, Any]]
) -> None:
    model = models[SLO_FILE]
    listed = _variable(model, "slo")["query"].split(",")
    assert sorted(listed) == sorted(objective.name for objective in objectives)
    assert len(listed) == 86
    journeys = _variable(model, "journey")["query"].split(",")
    assert "renewal" in journeys
    exprs = [expr for _, expr in panel_queries(model)]
    assert all('sloth_slo=~"$slo"' in expr for expr in exprs)
    for metric in (
        "slo:sli_error:ratio_rate30d",
        "slo:objective:ratio",
        "slo:period_error_budget_remaining:ratio",
        "slo:current_burn_rate:ratio",
        "ALERTS",
    ):
        assert any(metric in expr for expr in exprs), metric


def test_the_campaign_dashboard_covers_the_harness_and_platform_metrics(models: dict[str, dict[str, Any]]) -> None:
    exprs = " ".join(expr for _, expr in panel_queries(models[CAMPAIGN_FILE]))
    for metric in (
        "anef_step_total",
        "anef_step_duration_seconds_bucket",
        "anef_journey_total",
        "anef_reconcile_lag_seconds_bucket",
        "anef_defect_detected_total",
        "anef_applicants_at_risk",
        "anef_platform_http_requests_total",
        "anef_platform_fault_injected_total",
        "anef_platform_sync_lag_seconds",
    ):
        assert metric in exprs, metric
    for quantile in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({quantile}, sum by (step, le) (rate(anef_step_duration_seconds_bucket" in exprs
    annotation = models[CAMPAIGN_FILE]["annotations"]["list"][0]
    assert "anef_platform_fault_injected_total" in annotation["expr"]
    assert annotation["titleFormat"] == "{{fault}}"


def test_slos_with_different_periods_read_each_period_rule(objectives: list[Objective]) -> None:
    weekly = [dataclasses.replace(objective, time_window="7d") for objective in objectives[:2]]
    model = build_dashboards([*weekly, *objectives[2:]])[SLO_FILE]
    sli = next(expr for title, expr in panel_queries(model) if title.startswith("SLOs:") and expr.startswith("1 - "))
    assert f'slo:sli_error:ratio_rate7d{{sloth_slo=~"$slo", journey=~"$journey", sloth_slo=~"{weekly[0].name}|' in sli
    assert "slo:sli_error:ratio_rate30d{" in sli
    assert objectives[2].name in sli.split("ratio_rate30d", 1)[1]


def test_panel_queries_include_panels_inside_collapsed_rows() -> None:
    model = {
        "panels": [
            {"type": "stat", "title": "top", "targets": [{"expr": "up"}]},
            {
                "type": "row",
                "title": "row",
                "panels": [{"type": "timeseries", "title": "inner", "targets": [{"expr": "a"}, {"expr": "b"}]}],
            },
        ]
    }
    assert panel_queries(model) == [("top", "up"), ("inner", "a"), ("inner", "b")]


def test_concrete_replaces_grafana_variables() -> None:
    expr = 'sum(rate(x{journey=~"$journey", slo=~"${slo:regex}", j=~"[[journey]]"}[$__rate_interval])) / $__range_x'
    with pytest.raises(ValueError, match=r"\$__range_x"):
        concrete(expr)
    assert (
        concrete("rate(x[$__rate_interval]) + last_over_time(y[$__range]) + z[$__interval]", rate_interval="2m")
        == "rate(x[2m]) + last_over_time(y[5m]) + z[15s]"
    )
    assert concrete('x{journey=~"$journey", slo=~"${slo:regex}", j=~"[[journey]]"}') == (
        'x{journey=~".*", slo=~".*", j=~".*"}'
    )


def test_no_variable_is_left_in_any_concrete_query(models: dict[str, dict[str, Any]]) -> None:
    for model in models.values():
        for title, expr in panel_queries(model):
            assert "$" not in concrete(expr), title
            assert "[[" not in concrete(expr), title


@pytest.mark.skipif(not Path(PROMTOOL).exists(), reason=f"promtool is not installed at {PROMTOOL}")
def test_every_query_is_valid_promql(models: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    """``promtool check rules`` parses each expression as a recording rule's expr."""
    exprs = [concrete(expr) for model in models.values() for _, expr in panel_queries(model)]
    exprs += [concrete(entry["expr"]) for entry in models[CAMPAIGN_FILE]["annotations"]["list"]]
    assert len(exprs) > 30
    good = _rules_file(tmp_path / "good.yaml", exprs)
    checked = subprocess.run([PROMTOOL, "check", "rules", str(good)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in checked.stdout
    # The same check refuses a broken expression, so a pass above means something.
    bad = _rules_file(tmp_path / "bad.yaml", ["sum by (step (rate(anef_step_total[1m]))"])
    refused = subprocess.run([PROMTOOL, "check", "rules", str(bad)], capture_output=True, text=True, check=False)
    assert refused.returncode != 0


def _rules_file(path: Path, exprs: list[str]) -> Path:
    rules = [{"record": f"anef_dashboard:query{number}", "expr": expr} for number, expr in enumerate(exprs)]
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}), encoding="utf-8")
    return path


def test_write_dashboards_writes_json_and_provisioning(objectives: list[Objective], tmp_path: Path) -> None:
    out = tmp_path / "grafana"
    written = write_dashboards(objectives, out, datasource_uid="prom-test", folder="ANEF tests")
    assert {path.name for path in written} == {SLO_FILE, CAMPAIGN_FILE, "dashboards.yaml", "datasources.yaml"}
    assert all(path.is_file() for path in written)
    assert (
        json.loads((out / SLO_FILE).read_text()) == build_dashboards(objectives, datasource_uid="prom-test")[SLO_FILE]
    )
    providers = yaml.safe_load((out / "provisioning" / "dashboards.yaml").read_text())
    assert providers["apiVersion"] == 1
    [provider] = providers["providers"]
    assert provider["type"] == "file"
    assert provider["folder"] == "ANEF tests"
    assert Path(provider["options"]["path"]) == out.resolve()
    sources = yaml.safe_load((out / "provisioning" / "datasources.yaml").read_text())
    assert sources["apiVersion"] == 1
    [source] = sources["datasources"]
    assert (source["type"], source["uid"], source["url"]) == ("prometheus", "prom-test", PLACEHOLDER_PROMETHEUS_URL)


def test_a_bad_datasource_uid_is_one_config_error(objectives: list[Objective]) -> None:
    with pytest.raises(ConfigError, match=r"--datasource-uid: expected a Grafana uid .* got 'no spaces please'"):
        build_dashboards(objectives, datasource_uid="no spaces please")


# --- the build command -------------------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()
    dashboards_cli.register(app)

    @app.callback()
    def main() -> None:
        """A group, as the real CLI is (so 'dashboards' is a sub-command)."""

    return app


def test_build_command_writes_and_lists_the_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["dashboards", "build", "--out", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / 'g' / SLO_FILE}" in result.stdout
    assert (tmp_path / "g" / "provisioning" / "datasources.yaml").is_file()


def test_build_command_refuses_a_bad_slo_file_in_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\nspec: {}\n", encoding="utf-8")
    result = CliRunner().invoke(_app(), ["dashboards", "build", str(broken), "--out", str(tmp_path / "g")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"anef-harness: {broken}")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "g").exists()


def test_build_command_needs_out() -> None:
    result = CliRunner().invoke(_app(), ["dashboards", "build"])
    assert result.exit_code == 2
    assert (
        result.stderr
        == "anef-harness: --out: expected the folder to write the dashboards to, e.g. --out results/grafana\n"
    )
