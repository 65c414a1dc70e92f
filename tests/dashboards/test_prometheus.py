"""A real Prometheus (Debian's) scrapes a short campaign with the generated rules; every panel
query of every generated dashboard then returns data through Prometheus's HTTP API.

Prometheus discovers the run's endpoints (the harness's live metrics and the embedded platform's
/metrics) from the ``prometheus-targets.json`` the conductor writes, as a user's would.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from anef_harness.processes import free_port
from checks.slo import default_slo_path, load_slos
from dashboards.grafana import build_dashboards, concrete, panel_queries
from dashboards.rules import write_rules
from tests.anef_harness.campaigns import ROOT, campaign
from tests.support import wait_until

PROMETHEUS = shutil.which("prometheus")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.load,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed (scripts/setup installs it)"),
]


class Prometheus:
    def __init__(self, folder: Path, rules: Path, targets: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
            "rule_files": [str(rules)],
            "scrape_configs": [{"job_name": "anef", "file_sd_configs": [{"files": [str(targets)]}]}],
        }
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        self.log = (folder / "prometheus.log").open("wb")
        assert PROMETHEUS is not None
        self.process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.http = httpx.Client(base_url=self.url, timeout=10)
        wait_until(self._ready, timeout=30, interval=0.2)

    def _ready(self) -> bool:
        assert self.process.poll() is None, "prometheus exited; see its log"
        try:
            return self.http.get("/-/ready").status_code == 200
        except httpx.HTTPError:
            return False

    def query(self, expr: str, at: float) -> list[dict[str, Any]]:
        answer = self.http.get("/api/v1/query", params={"query": expr, "time": at}).json()
        assert answer["status"] == "success", (expr, answer)
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()
        self.http.close()


DURATION = 45  # seconds, at most
PAGE_ALERT = 'ALERTS{alertstate="firing", sloth_severity="page"}'
RECORDING = "slo:period_error_budget_remaining:ratio"
UP = {component: f'up{{anef_component="{component}"}} == 1' for component in ("harness", "platform")}


def unscraped(prometheus: Prometheus, at: float) -> list[str]:
    """The components Prometheus did not see up at ``at``."""
    return [component for component, expr in UP.items() if not prometheus.query(expr, at)]


def panels() -> list[tuple[str, str]]:
    """Every panel query of every generated dashboard: (where, query)."""
    dashboards = build_dashboards(load_slos(default_slo_path())).items()
    return [
        (f"{name} / {title}", concrete(expr))
        for name, dashboard in dashboards
        for title, expr in panel_queries(dashboard)
    ]


def empty_panels(prometheus: Prometheus, at: float) -> list[str]:
    """The panel queries without data at ``at``."""
    return [f"{where}: {expr}" for where, expr in panels() if not prometheus.query(expr, at)]


def manifest_of(results: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((results / "manifest.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):  # not written yet, or being written
        return {}
    return manifest


def all_there(prometheus: Prometheus, at: float, queries: list[str]) -> bool:
    """Whether every query the tests below make has data at ``at`` (stops at the first without)."""
    return all(prometheus.query(expr, at) for expr in queries)


@pytest.fixture(scope="module")
def scraped_campaign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Prometheus, float]]:
    """A campaign of up to 45 seconds with the anef-2024 defects, scraped every second; yields
    Prometheus and a moment when the load ran, the harness and the platform both up: the first at
    which Prometheus had everything the tests look for (the campaign is then stopped with Ctrl-C, as
    a user would), or just before the load ended if that moment never came (the tests then fail)."""
    tmp_path = tmp_path_factory.mktemp("prometheus")
    rules = write_rules(load_slos(default_slo_path()), tmp_path / "rules.yaml")
    results = tmp_path / "results"
    source = campaign(tmp_path, duration=f"{DURATION}s", population={"size": 1500}, faults={"profile": "anef-2024"})
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "anef_harness",
            "run",
            str(source),
            "--out",
            str(results),
            "--quiet",
            "--metrics-port",
            "0",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    prometheus = None
    try:
        targets = results / "prometheus-targets.json"
        wait_until(lambda: targets.is_file() or run.poll() is not None, timeout=120, interval=0.2)
        assert targets.is_file(), "the run wrote no prometheus-targets.json"
        prometheus = Prometheus(tmp_path, rules, targets)
        moment = None
        wait_until(lambda: manifest_of(results).get("load_started") or run.poll() is not None, timeout=120)
        started = manifest_of(results).get("load_started")
        # Looked for while the load runs (a Ctrl-C once it is over would not be the one tested here).
        last_look = datetime.fromisoformat(started).timestamp() + DURATION - 5.0 if started else 0.0
        looked_for = [*UP.values(), RECORDING, PAGE_ALERT, *(expr for _, expr in panels())]
        while moment is None and run.poll() is None and time.time() < last_look:
            now = time.time()
            if all_there(prometheus, now, looked_for):
                moment = now
                run.send_signal(signal.SIGINT)
                print(f"everything looked for in Prometheus {now - last_look + DURATION - 5:.0f} s into the load")
            else:
                time.sleep(2.0)
        output, _ = run.communicate(timeout=300)
        manifest = manifest_of(results)
        if moment is None:
            assert run.returncode in (0, 1), output
            moment = datetime.fromisoformat(manifest["load_ended"]).timestamp() - 2.0
        else:  # stopped by Ctrl-C: interrupted, not crashed
            assert (run.returncode, manifest["status"]) == (3, "interrupted"), output
        yield prometheus, moment
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        if prometheus is not None:
            prometheus.stop()


def test_every_panel_query_returns_data(scraped_campaign: tuple[Prometheus, float]) -> None:
    prometheus, moment = scraped_campaign
    assert unscraped(prometheus, moment) == []
    assert len(panels()) >= 10
    empty = empty_panels(prometheus, moment)
    assert not empty, "panel queries without data:\n" + "\n".join(empty)


def test_sloth_recordings_and_a_page_alert_on_real_traffic(scraped_campaign: tuple[Prometheus, float]) -> None:
    prometheus, moment = scraped_campaign
    remaining = prometheus.query(RECORDING, moment)
    assert {r["metric"]["sloth_service"] for r in remaining} == {"anef"}
    # The anef-2024 defects burn some budget far faster than 14.4×: a page alert fires.
    firing = prometheus.query(PAGE_ALERT, moment)
    assert firing, "no page alert fired during a campaign with the anef-2024 defects"
