"""``anef-harness locust-operator``: the Locust operator's command lines become ``run`` and ``worker``."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from anef_harness.locust_operator_cli import translate
from tests.anef_harness.campaigns import ROOT

# As the operator 2.4.1 builds them (internal/resources/command.go), after the resource's command.
MASTER_FLAGS = [
    "--master",
    "--master-port=5557",
    "--expect-workers=4",
    "--autostart",
    "--autoquit",
    "60",
    "--enable-rebalancing",
    "--only-summary",
]
WORKER_FLAGS = ["--worker", "--master-port=5557", "--master-host=anef-campaign-master"]
CAMPAIGN = ["/lotest/src/campaign.yaml", "--master-bind", "0.0.0.0", "--allow-remote"]


def test_the_master_becomes_run_with_the_operators_port_and_workers() -> None:
    assert translate([*CAMPAIGN, *MASTER_FLAGS, "--quiet"]) == [
        "run",
        *CAMPAIGN,
        "--master-port=5557",
        "--expect-workers=4",
        "--quiet",
    ]


def test_a_master_without_autostart_and_autoquit_becomes_the_same_run() -> None:
    flags = [flag for flag in MASTER_FLAGS if flag not in ("--autostart", "--autoquit", "60")]
    assert translate([*CAMPAIGN, *flags]) == translate([*CAMPAIGN, *MASTER_FLAGS])


def test_a_worker_becomes_worker_with_the_masters_address() -> None:
    assert translate(WORKER_FLAGS) == ["worker", "--master", "anef-campaign-master:5557"]
    assert translate(["--folder", "/spool", "--worker", "--master-host", "fd00::1", "--master-port", "6000"]) == [
        "worker",
        "--folder",
        "/spool",
        "--master",
        "[fd00::1]:6000",
    ]


@pytest.mark.parametrize(
    ("arguments", "refusal"),
    [
        ([*CAMPAIGN, *MASTER_FLAGS, "--otel"], "--otel: the harness exports Prometheus metrics, not OpenTelemetry"),
        (CAMPAIGN, "expected the Locust operator's --master or --worker flag"),
        ([*MASTER_FLAGS, *WORKER_FLAGS], "expected the Locust operator's --master or --worker flag"),
        (["/lotest/src/campaign.yaml", *MASTER_FLAGS], "add --master-bind 0.0.0.0 --allow-remote to master.command"),
        (["--worker", "--master-port=5557"], "--worker: expected --master-host and --master-port"),
        ([*CAMPAIGN, "--master", "--autoquit"], "--autoquit: expected a value"),
    ],
)
def test_what_cannot_be_translated_is_refused(arguments: list[str], refusal: str) -> None:
    with pytest.raises(ValueError, match=re.escape(refusal)):
        translate(arguments)


def _harness(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anef_harness", "locust-operator", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
    )


def test_a_refusal_is_one_line_with_exit_2() -> None:
    done = _harness("--worker", "--master-port=5557")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "anef-harness: locust-operator: --worker: expected --master-host and --master-port, as the operator gives them"
    ]


def test_the_command_becomes_the_translated_one() -> None:
    """The process becomes ``anef-harness worker --master HOST:PORT``: worker's own refusal of the port shows it."""
    done = _harness("--worker", "--master-port=70000", "--master-host=anef-campaign-master")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "anef-harness: --master: expected HOST:PORT (e.g. 10.0.0.5:5557), got 'anef-campaign-master:70000'"
    ]
