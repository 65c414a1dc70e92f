"""Live metrics: what the endpoint serves, the judgement as the run goes, the Pushgateway, a taken port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from anef_harness.cli import app
from anef_harness.processes import free_port
from checks.live_pass import MODULE
from dashboards.live import LiveMetrics
from scenarios.manifest import new_manifest
from tests.checks.test_defects import CASES
from tests.checks.test_store_and_rights import folder, journey, step
from tests.support import wait_until

PUSHGATEWAY = shutil.which("prometheus-pushgateway")


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def live() -> Iterator[LiveMetrics]:
    metrics = LiveMetrics(0)
    yield metrics
    metrics.stop()


def scrape(live: LiveMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return samples(httpx.get(live.url, timeout=5).text)


def test_the_endpoint_counts_steps_by_outcome_and_times_only_ok_attempts(live: LiveMetrics) -> None:
    live.campaign("smoke", "smoke-1")
    live.observe(
        [
            step("renewal.upload", duration=300.0),
            step("renewal.upload", duration=900.0),
            step("renewal.upload", "timeout", duration=30_000.0),
            step("renewal.reconcile", duration=2_500.0),
            journey("renewal", "j", 0, "failed", 1.0, "renewal.upload"),
        ]
    )
    found = scrape(live)
    upload = {("journey", "renewal"), ("step", "renewal.upload")}
    assert found[("anef_step_total", frozenset({*upload, ("outcome", "ok")}))] == 2
    assert found[("anef_step_total", frozenset({*upload, ("outcome", "timeout")}))] == 1
    assert found[("anef_step_duration_seconds_count", frozenset(upload))] == 2  # the timeout is not timed
    assert found[("anef_step_duration_seconds_bucket", frozenset({*upload, ("le", "0.8")}))] == 1
    reconcile = frozenset({("journey", "renewal"), ("step", "renewal.reconcile"), ("le", "5.0")})
    assert found[("anef_reconcile_lag_seconds_bucket", reconcile)] == 1
    failed = {("journey", "renewal"), ("outcome", "failed"), ("failed_step", "renewal.upload")}
    assert found[("anef_journey_total", frozenset(failed))] == 1
    assert found[("anef_campaign_info", frozenset({("campaign", "smoke"), ("run_id", "smoke-1")}))] == 1
    assert found[("anef_applicants_at_risk", frozenset())] == 0
    assert not any(name.endswith("_created") for name, _ in found)


def test_judging_a_folder_mid_run_counts_the_defects_seen_so_far(tmp_path: Path, live: LiveMetrics) -> None:
    clean, lost, _ = CASES["reset_email_lost"]
    results = folder(tmp_path, [clean, lost, lost])
    live.judge_folder(results)
    assert scrape(live)[("anef_defect_detected_total", frozenset({("defect", "reset_email_lost")}))] == 2
    live.judge({"reset_email_lost": 1}, 0)  # a judgement on fewer events never lowers a counter
    assert scrape(live)[("anef_defect_detected_total", frozenset({("defect", "reset_email_lost")}))] == 2
    assert live.last_judgement_s is not None


def stalled_folder(tmp_path: Path) -> Path:
    """A running campaign's folder whose events file is a FIFO no one writes: a pass reading it
    waits until it is killed, so a test can see it in flight."""
    (tmp_path / "events").mkdir(parents=True)
    (tmp_path / "manifest.json").write_text(new_manifest(campaign="test", status="running").json_text())
    os.mkfifo(tmp_path / "events" / "worker-0.jsonl")
    return tmp_path


def live_passes(parent: psutil.Process) -> list[psutil.Process]:
    found = []
    for child in parent.children():
        try:
            if MODULE in child.cmdline():
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE  # dead, left to a parent that does not reap
    except psutil.NoSuchProcess:
        return True


def test_a_live_pass_runs_in_a_child_process_that_stop_judging_kills(tmp_path: Path) -> None:
    live = LiveMetrics(0, judge_every=0.01)
    warnings: list[str] = []
    try:
        live.judge_in_background(stalled_folder(tmp_path), on_error=warnings.append)
        (child,) = wait_until(lambda: live_passes(psutil.Process()), timeout=30)
        assert child.pid != os.getpid()
        assert child.status() != psutil.STATUS_ZOMBIE  # in flight, reading the folder
        live.stop_judging()
        assert gone(child)
        assert not live_passes(psutil.Process())
        assert warnings == []  # a pass ended by stop_judging is no failure
    finally:
        live.stop()


def test_a_live_pass_that_fails_warns_once_with_the_childs_reason(tmp_path: Path) -> None:
    live = LiveMetrics(0, judge_every=0.01)
    warnings: list[str] = []
    try:
        live.judge_in_background(tmp_path, on_error=warnings.append)  # no manifest: not a results folder
        wait_until(lambda: live.passes >= 3, timeout=60)
    finally:
        live.stop()
    (warning,) = warnings
    assert warning == (
        f"live judgement failed ({tmp_path}: not a results folder: manifest.json is missing); "
        "the final judgement is unaffected"
    )
    assert not live_passes(psutil.Process())


CONDUCTOR = """
import sys, threading
from pathlib import Path
from dashboards.live import LiveMetrics
LiveMetrics(0, judge_every=0.01).judge_in_background(Path(sys.argv[1]))
threading.Event().wait()
"""


def test_a_live_pass_dies_with_a_killed_conductor(tmp_path: Path) -> None:
    conductor = subprocess.Popen([sys.executable, "-c", CONDUCTOR, str(stalled_folder(tmp_path))])
    try:
        (child,) = wait_until(lambda: live_passes(psutil.Process(conductor.pid)), timeout=30)
        conductor.send_signal(signal.SIGKILL)
        conductor.wait(timeout=10)
        wait_until(lambda: gone(child), timeout=10)
    finally:
        conductor.kill()
        conductor.wait()


def test_a_taken_metrics_port_is_one_line_with_a_suggestion_before_any_load(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = tmp_path / "results"
        done = CliRunner().invoke(app, ["run", "smoke", "--metrics-port", str(port), "--out", str(out)])
    assert done.exit_code == 2
    (line,) = done.output.strip().splitlines()
    assert f"--metrics-port {port}" in line
    assert "already in use" in line
    assert "--no-metrics" in line
    assert not out.exists()  # refused before the results folder, the target or any load


def test_a_pushgateway_outside_loopback_is_refused(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        app, ["run", "smoke", "--pushgateway", "http://pushgateway.example:9091", "--out", str(tmp_path / "r")]
    )
    assert done.exit_code == 2
    assert "--pushgateway: pushgateway.example is not a loopback address" in done.output


@pytest.mark.skipif(PUSHGATEWAY is None, reason="prometheus-pushgateway not installed (scripts/setup installs it)")
def test_final_figures_are_pushed_under_the_run_id(tmp_path: Path, live: LiveMetrics) -> None:
    port = free_port()
    assert PUSHGATEWAY is not None
    gateway = subprocess.Popen(
        [PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}", f"--persistence.file={tmp_path / 'push'}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            try:
                return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=20, interval=0.1)
        live.observe([step("login.submit"), step("login.submit", "error")])
        live.push(url, "smoke-20261126")
        pushed = samples(httpx.get(f"{url}/metrics", timeout=5).text)
        key = frozenset(
            {
                ("journey", "login"),
                ("step", "login.submit"),
                ("outcome", "error"),
                ("job", "anef-harness"),
                ("run_id", "smoke-20261126"),
                ("instance", ""),
            }
        )
        assert pushed[("anef_step_total", key)] == 1
    finally:
        gateway.terminate()
        gateway.wait(timeout=10)


def test_a_pushgateway_down_raises_oserror_for_the_conductor_to_warn(live: LiveMetrics) -> None:
    with pytest.raises(OSError, match="Connection refused"):
        live.push(f"http://127.0.0.1:{free_port()}", "run")


def test_the_endpoint_answers_only_to_loopback_names(live: LiveMetrics) -> None:
    assert httpx.get(live.url, headers={"Host": "evil.example"}, timeout=5).status_code == 400
    assert httpx.get(live.url, headers={"Host": f"localhost:{live.port}"}, timeout=5).status_code == 200
