"""Publishing the dashboards through Grafana's HTTP API, against the Grafana double
(tests/dashboards/grafana_double.py) on a real socket."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from typer.testing import CliRunner, Result

from anef_harness import dashboards_cli
from checks.slo import default_slo_path, load_slos
from core.errors import ConfigError
from dashboards.grafana import build_dashboards
from dashboards.publish import GrafanaError, publish
from tests.dashboards.grafana_double import GrafanaDouble, serve_grafana

TOKEN, VIEWER = "glsa_admin_token_for_tests", "glsa_viewer_token_for_tests"
UIDS = {"anef-slos", "anef-campaign"}


@pytest.fixture(scope="module")
def models() -> dict[str, dict[str, Any]]:
    return build_dashboards(load_slos(default_slo_path()))


@pytest.fixture
def grafana() -> Iterator[GrafanaDouble]:
    with serve_grafana({TOKEN: "Admin", VIEWER: "Viewer"}) as double:
        yield double


def _app() -> typer.Typer:
    app = typer.Typer()
    dashboards_cli.register(app)

    @app.callback()
    def main() -> None:
        """A group, as the real CLI is (so 'dashboards' is a sub-command)."""

    return app


def _publish(*args: str, token: str | None = TOKEN) -> Result:
    env = {"GRAFANA_TOKEN": token} if token is not None else {"GRAFANA_TOKEN": ""}
    return CliRunner().invoke(_app(), ["dashboards", "publish", *args], env={**env, "GRAFANA_URL": ""})


def _read_back(grafana: GrafanaDouble, uid: str) -> dict[str, Any]:
    answer = httpx.get(f"{grafana.url}/api/dashboards/uid/{uid}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _one_line_error(result: Result) -> str:
    assert result.stdout == ""
    assert result.stderr.startswith("anef-harness: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_publish_creates_the_folder_and_the_dashboards(grafana: GrafanaDouble, models: dict[str, Any]) -> None:
    report = publish(models, url=grafana.url, token=TOKEN)
    assert report.folder_created
    assert grafana.folders["anef-harness"]["title"] == "ANEF"
    assert [(request.method, request.path) for request in grafana.requests[:3]] == [
        ("GET", "/api/health"),
        ("GET", "/api/folders/anef-harness"),
        ("POST", "/api/folders"),
    ]
    assert {dashboard.uid for dashboard in report.dashboards} == UIDS
    for dashboard in report.dashboards:
        assert dashboard.version == 1
        assert dashboard.url.startswith(f"{grafana.url}/d/{dashboard.uid}/")
        stored = _read_back(grafana, dashboard.uid)
        assert stored["meta"]["folderUid"] == "anef-harness"
        assert stored["dashboard"]["title"] == models[dashboard.file]["title"]
        assert stored["dashboard"]["panels"] == models[dashboard.file]["panels"]
    saves = [request.body for request in grafana.requests if request.path == "/api/dashboards/db"]
    assert all(body["overwrite"] is True and body["folderUid"] == "anef-harness" and body["message"] for body in saves)


def test_every_call_speaks_grafana_http_api(grafana: GrafanaDouble, models: dict[str, Any]) -> None:
    """Bearer token on every call, JSON bodies declared as JSON, and only the documented endpoints."""
    publish(models, url=grafana.url, token=TOKEN)
    publish({**models, "anef-slos.json": {**models["anef-slos.json"], "refresh": "1m"}}, url=grafana.url, token=TOKEN)
    documented = {
        ("GET", "/api/health"),
        ("GET", "/api/folders/anef-harness"),
        ("POST", "/api/folders"),
        ("GET", "/api/dashboards/uid/anef-slos"),
        ("GET", "/api/dashboards/uid/anef-campaign"),
        ("POST", "/api/dashboards/db"),
    }
    assert {(request.method, request.path) for request in grafana.requests} == documented
    for request in grafana.requests:
        assert request.headers["authorization"] == f"Bearer {TOKEN}", request.path
        assert "application/json" in request.headers["accept"]
        if request.method == "POST":
            assert request.headers["content-type"] == "application/json"
            assert isinstance(request.body, dict)
    folder = next(request.body for request in grafana.requests if request.path == "/api/folders")
    assert folder == {"title": "ANEF", "uid": "anef-harness"}


def test_a_grafana_under_a_path_prefix_is_reached_below_it(grafana: GrafanaDouble) -> None:
    """``--grafana-url http://host/grafana`` (Grafana's serve_from_sub_path): the API is /grafana/api/…"""
    with pytest.raises(GrafanaError, match=r"/grafana: checking /api/health: 404 Not found$"):
        publish({}, url=f"{grafana.url}/grafana/", token=TOKEN)  # the double serves no prefix: its 404 says where
    assert [request.path for request in grafana.requests] == ["/grafana/api/health"]


def test_a_server_error_is_one_line_with_grafana_message(grafana: GrafanaDouble, models: dict[str, Any]) -> None:
    grafana.refuse("POST", "/api/folders", 500, {"message": "database is locked"})
    with pytest.raises(GrafanaError) as caught:
        publish(models, url=grafana.url, token=TOKEN)
    assert str(caught.value) == (
        f"Grafana at {grafana.url}: creating folder 'ANEF' (uid 'anef-harness'): 500 server error: database is locked"
    )


def test_publishing_twice_changes_nothing(grafana: GrafanaDouble, models: dict[str, Any]) -> None:
    publish(models, url=grafana.url, token=TOKEN)
    again = publish(models, url=grafana.url, token=TOKEN)
    assert not again.folder_created
    assert len(grafana.folders) == 1
    assert set(grafana.dashboards) == UIDS
    assert {(dashboard.version, dashboard.changed) for dashboard in again.dashboards} == {(1, False)}
    assert [version for version, _ in grafana.history["anef-slos"]] == [1]  # no second save
    assert _read_back(grafana, "anef-campaign")["meta"]["version"] == 1


def test_publishing_a_changed_dashboard_updates_the_same_one(grafana: GrafanaDouble, models: dict[str, Any]) -> None:
    publish(models, url=grafana.url, token=TOKEN)
    changed = {**models, "anef-slos.json": {**models["anef-slos.json"], "refresh": "1m"}}
    again = publish(changed, url=grafana.url, token=TOKEN)
    by_file = {dashboard.file: dashboard for dashboard in again.dashboards}
    assert (by_file["anef-slos.json"].version, by_file["anef-slos.json"].changed) == (2, True)
    assert (by_file["anef-campaign.json"].version, by_file["anef-campaign.json"].changed) == (1, False)
    assert set(grafana.dashboards) == UIDS  # updated in place, no copy
    assert _read_back(grafana, "anef-slos")["dashboard"]["refresh"] == "1m"


def test_cli_publishes_and_prints_each_dashboard_url(grafana: GrafanaDouble) -> None:
    result = _publish("--grafana-url", grafana.url)
    assert result.exit_code == 0, result.output
    assert f"{grafana.url}/d/anef-slos/" in result.stdout
    assert f"{grafana.url}/d/anef-campaign/" in result.stdout
    assert "folder 'ANEF' (created)" in result.stdout


def test_cli_publishes_a_folder_written_by_build(grafana: GrafanaDouble, tmp_path: Path) -> None:
    out = tmp_path / "grafana"
    built = CliRunner().invoke(_app(), ["dashboards", "build", "--out", str(out), "--datasource-uid", "prom-x"])
    assert built.exit_code == 0, built.output
    result = _publish(str(out), "--grafana-url", grafana.url, "--folder", "ANEF recette")
    assert result.exit_code == 0, result.output
    assert set(grafana.dashboards) == UIDS
    assert grafana.folders["anef-harness"]["title"] == "ANEF recette"
    panels = _read_back(grafana, "anef-slos")["dashboard"]["panels"]
    assert {panel["datasource"]["uid"] for panel in panels if panel["type"] != "row"} == {"prom-x"}


def test_a_wrong_token_exits_3_in_one_line(grafana: GrafanaDouble) -> None:
    result = _publish("--grafana-url", grafana.url, token="not-the-token")
    assert result.exit_code == 3
    line = _one_line_error(result)
    assert grafana.url in line
    assert "401" in line
    assert "GRAFANA_TOKEN" in line
    assert not grafana.dashboards


def test_no_token_says_to_set_it(grafana: GrafanaDouble) -> None:
    result = _publish("--grafana-url", grafana.url, token=None)
    assert result.exit_code == 3
    assert "401 unauthorized (Unauthorized): set GRAFANA_TOKEN" in _one_line_error(result)


def test_a_viewer_token_is_refused_with_403(grafana: GrafanaDouble) -> None:
    result = _publish("--grafana-url", grafana.url, token=VIEWER)
    assert result.exit_code == 3
    line = _one_line_error(result)
    assert "403 forbidden" in line
    assert "Editor or Admin" in line


def test_a_non_loopback_grafana_is_refused_without_allow_target(grafana: GrafanaDouble) -> None:
    result = _publish("--grafana-url", "http://grafana.ministere.example:3000")
    assert result.exit_code == 2
    line = _one_line_error(result)
    assert "grafana.ministere.example is not a loopback address" in line
    assert "--allow-target grafana.ministere.example" in line
    with pytest.raises(ConfigError, match="not a loopback address"):
        publish({}, url="http://10.1.2.3:3000", token=TOKEN)


def test_allow_target_lets_a_non_loopback_host_through(grafana: GrafanaDouble) -> None:
    """0.0.0.0 is not a loopback address, yet Linux connects it to this host, where the double listens."""
    port = grafana.url.rsplit(":", 1)[1]
    refused = _publish("--grafana-url", f"http://0.0.0.0:{port}")
    assert refused.exit_code == 2
    assert not grafana.requests
    allowed = _publish("--grafana-url", f"http://0.0.0.0:{port}", "--allow-target", "0.0.0.0")
    assert allowed.exit_code == 0, allowed.output
    assert set(grafana.dashboards) == UIDS


def test_an_unreachable_grafana_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _publish("--grafana-url", f"http://127.0.0.1:{port}")
    assert result.exit_code == 3
    line = _one_line_error(result)
    assert f"Grafana at http://127.0.0.1:{port}: checking /api/health: unreachable" in line


def test_a_412_is_reported_with_grafana_status(grafana: GrafanaDouble, models: dict[str, Any]) -> None:
    grafana.refuse(
        "POST",
        "/api/dashboards/db",
        412,
        {"status": "version-mismatch", "message": "The dashboard has been changed by someone else"},
    )
    with pytest.raises(GrafanaError) as caught:
        publish(models, url=grafana.url, token=TOKEN)
    message = str(caught.value)
    assert message.startswith(
        f"Grafana at {grafana.url}: saving anef-slos.json (uid 'anef-slos'): 412 version-mismatch"
    )
    assert "\n" not in message


def test_a_dashboard_without_uid_is_refused_before_any_request(grafana: GrafanaDouble) -> None:
    with pytest.raises(ConfigError, match=r"^x\.json: expected a uid .* got None"):
        publish({"x.json": {"title": "No uid"}}, url=grafana.url, token=TOKEN)
    assert not grafana.requests


def test_bad_inputs_exit_2_naming_the_file(grafana: GrafanaDouble, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _publish(str(empty), "--grafana-url", grafana.url)
    assert result.exit_code == 2
    assert f"{empty}: no dashboard JSON" in _one_line_error(result)
    (empty / "broken.json").write_text('{"title": "x",\n  "uid": }\n', encoding="utf-8")
    result = _publish(str(empty), "--grafana-url", grafana.url)
    assert result.exit_code == 2
    assert f"{empty / 'broken.json'}:2: not valid JSON" in _one_line_error(result)
    missing = _publish("--grafana-url", "")
    assert missing.exit_code == 2
    assert "--grafana-url" in _one_line_error(missing)
    assert not grafana.requests


# --- the double answers as Grafana's documentation says ---------------------------------------------------


def _post(grafana: GrafanaDouble, path: str, body: dict[str, Any], token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{grafana.url}{path}", content=json.dumps(body), headers=headers)


def test_double_requires_a_bearer_token_except_for_health(grafana: GrafanaDouble) -> None:
    assert httpx.get(f"{grafana.url}/api/health").json()["database"] == "ok"
    assert httpx.get(f"{grafana.url}/api/folders/x").status_code == 401
    assert _post(grafana, "/api/folders", {"title": "T"}, token="wrong").status_code == 401


def test_double_checks_folder_and_dashboard_payloads(grafana: GrafanaDouble) -> None:
    assert _post(grafana, "/api/folders", {"uid": "f"}).status_code == 400
    created = _post(grafana, "/api/folders", {"uid": "f", "title": "F"})
    assert created.status_code == 200
    assert created.json()["url"] == "/dashboards/f/f/f"
    assert _post(grafana, "/api/folders", {"uid": "f", "title": "Other"}).status_code == 409
    assert _post(grafana, "/api/dashboards/db", {"dashboard": {"uid": "d"}}).status_code == 400
    assert _post(grafana, "/api/dashboards/db", {"dashboard": {"title": "D"}, "folderUid": "nope"}).status_code == 400
    first = _post(grafana, "/api/dashboards/db", {"dashboard": {"uid": "d", "title": "D"}, "folderUid": "f"})
    assert first.json() == {
        "id": first.json()["id"],
        "uid": "d",
        "url": "/d/d/d",
        "status": "success",
        "version": 1,
        "slug": "d",
    }


def test_double_answers_412_as_grafana(grafana: GrafanaDouble) -> None:
    _post(grafana, "/api/dashboards/db", {"dashboard": {"uid": "d", "title": "D"}})
    stale = _post(grafana, "/api/dashboards/db", {"dashboard": {"uid": "d", "title": "D", "version": 0}})
    assert (stale.status_code, stale.json()["status"]) == (412, "version-mismatch")
    current = _post(grafana, "/api/dashboards/db", {"dashboard": {"uid": "d", "title": "D", "version": 1}})
    assert current.json()["version"] == 2
    twin = _post(grafana, "/api/dashboards/db", {"dashboard": {"uid": "e", "title": "D"}})
    assert (twin.status_code, twin.json()["status"]) == (412, "name-exists")
    forced = _post(grafana, "/api/dashboards/db", {"dashboard": {"uid": "e", "title": "D"}, "overwrite": True})
    assert (forced.json()["uid"], forced.json()["version"]) == ("d", 3)  # Grafana keeps the existing dashboard
    assert set(grafana.dashboards) == {"d"}
