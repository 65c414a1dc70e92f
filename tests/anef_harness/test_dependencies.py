"""The harness's dependencies: relays a drill can cut, warnings once per outage, a results
folder refused before anything starts."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import httpx
import pytest
from typer.testing import CliRunner

from anef_harness import results_folder
from anef_harness.cli import app
from anef_harness.embedded import EmbeddedTarget
from dashboards.live import LiveMetrics
from drills.dependencies import Dependencies
from drills.relay import Relay
from tests.anef_harness.campaigns import campaign
from tests.support import free_port, wait_until

PUSHGATEWAY = shutil.which("prometheus-pushgateway")


class Healthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"Prometheus Server is Healthy.\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_cut_relay_refuses_connections_until_it_is_restored(upstream: str) -> None:
    relay = Relay(upstream).start()
    try:
        assert httpx.get(f"{relay.url}/-/healthy", timeout=2).status_code == 200
        with httpx.Client(timeout=2) as kept:  # a connection open at the cut is closed too
            assert kept.get(f"{relay.url}/-/healthy").status_code == 200
            relay.cut()
            with pytest.raises(httpx.TransportError):
                kept.get(f"{relay.url}/-/healthy")
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{relay.url}/-/healthy", timeout=2)
        port = relay.port
        relay.restore()
        assert relay.port == port
        assert httpx.get(f"{relay.url}/-/healthy", timeout=2).status_code == 200
    finally:
        relay.stop()


def test_prometheus_cut_off_is_one_warning_and_one_note_when_it_is_back(upstream: str) -> None:
    warnings: list[str] = []
    notes: list[str] = []
    deps = Dependencies(
        pushgateway=None,
        prometheus=upstream,
        mailbox=None,
        live=None,
        run_id="run",
        warn=warnings.append,
        note=notes.append,
    )
    try:
        deps.check()
        assert warnings == []
        deps.relays["prometheus"].cut()
        deps.check()
        deps.check()  # still down: said once
        assert len(warnings) == 1
        assert f"prometheus {upstream} unreachable" in warnings[0]
        assert "the campaign goes on" in warnings[0]
        deps.relays["prometheus"].restore()
        deps.check()
        assert notes == [f"prometheus {upstream} reachable again"]
        assert deps.outages == {"prometheus": 1}
    finally:
        deps.stop()


@pytest.mark.skipif(PUSHGATEWAY is None, reason="prometheus-pushgateway not installed (scripts/setup installs it)")
def test_pushes_go_on_after_the_pushgateway_was_cut_off(tmp_path: Path) -> None:
    assert PUSHGATEWAY is not None
    port = free_port()
    gateway = subprocess.Popen(
        [PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}", f"--persistence.file={tmp_path / 'push'}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    live = LiveMetrics(0)
    warnings: list[str] = []
    url = f"http://127.0.0.1:{port}"
    deps = Dependencies(
        pushgateway=url, prometheus=None, mailbox=None, live=live, run_id="drill", warn=warnings.append, note=print
    )
    try:
        wait_until(lambda: _ready(url), timeout=20, interval=0.1)
        deps.check()
        assert warnings == []
        assert 'run_id="drill"' in httpx.get(f"{url}/metrics", timeout=5).text
        deps.relays["pushgateway"].cut()
        deps.check()
        assert len(warnings) == 1
        assert "pushgateway" in warnings[0]
        deps.relays["pushgateway"].restore()
        httpx.delete(f"{url}/metrics/job/anef-harness/run_id/drill", timeout=5)
        deps.check()
        assert 'run_id="drill"' in httpx.get(f"{url}/metrics", timeout=5).text
    finally:
        deps.stop()
        live.stop()
        gateway.terminate()
        gateway.wait(timeout=10)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_results_folder_that_cannot_be_written_is_refused_before_anything_starts(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    out = blocker / "results"
    done = CliRunner().invoke(app, ["run", str(campaign(tmp_path)), "--out", str(out), "--no-metrics"])
    assert done.exit_code == 3, done.output
    lines = done.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == f"anef-harness: {out}: cannot write the results folder (Not a directory)"


def test_a_disk_without_room_for_the_campaign_is_refused_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []
    monkeypatch.setattr(EmbeddedTarget, "start", lambda self: started.append("platform"))
    monkeypatch.setattr(
        results_folder.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 2**20, 2**20)
    )  # type: ignore[attr-defined]
    out = tmp_path / "results"
    done = CliRunner().invoke(app, ["run", str(campaign(tmp_path)), "--out", str(out), "--no-metrics"])
    assert done.exit_code == 3, done.output
    assert done.output.count("\n") == 1
    assert "1 MiB free on its disk, the campaign needs about" in done.output
    assert started == []
    assert not (out / "manifest.json").exists()
