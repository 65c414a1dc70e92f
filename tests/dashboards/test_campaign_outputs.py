"""Two runs of one campaign into one results root: both in the history, the second report compares
with the first, and each run's final metrics are pushed to a real Pushgateway under its run id."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from anef_harness.cli import app
from anef_harness.processes import free_port
from dashboards.report import write_report
from tests.anef_harness.campaigns import campaign, run
from tests.support import wait_until

PUSHGATEWAY = shutil.which("prometheus-pushgateway")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.load,
    pytest.mark.skipif(PUSHGATEWAY is None, reason="prometheus-pushgateway not installed (scripts/setup installs it)"),
]


def test_two_runs_are_in_the_history_compared_and_pushed(tmp_path: Path) -> None:
    port = free_port()
    assert PUSHGATEWAY is not None
    gateway = subprocess.Popen(
        [PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            try:
                return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=20, interval=0.1)
        source = campaign(tmp_path, duration="8s", population={"size": 1000}, browser={"users": 0})
        root = tmp_path / "results"
        for name in ("first", "second"):
            done = run(source, "--out", root / name, "--pushgateway", url)
            assert done.returncode in (0, 1), done.stdout + done.stderr
        listed = CliRunner().invoke(app, ["history", "--root", str(root), "--json"])
        assert listed.exit_code == 0, listed.output
        rows = json.loads(listed.output)
        assert [row["run"] for row in rows] == ["second", "first"]  # newest first
        second = (root / "second" / "report.html").read_text(encoding="utf-8")
        comparison = second[second.index('id="comparison"') :]
        assert "first" in comparison  # the previous run of the same campaign, named
        first = (root / "first" / "report.html").read_text(encoding="utf-8")
        assert "first" not in first[first.index('id="comparison"') :].split("</section>")[0].split("</h2>")[1]
        groups = httpx.get(f"{url}/api/v1/metrics", timeout=5).json()["data"]
        pushed = {group["labels"]["run_id"] for group in groups if group["labels"].get("job") == "anef-harness"}
        assert pushed == {"first", "second"}
        assert write_report(root / "second", lang="en").is_file()  # the report command works on it again
    finally:
        gateway.terminate()
        gateway.wait(timeout=10)
