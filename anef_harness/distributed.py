"""A campaign's load over several Locust processes: the master, its workers, and what each one sent.

``anef-harness run --workers N`` starts N workers on this host; ``--expect-workers N`` waits for N
more that join from elsewhere (``anef-harness worker --master HOST:PORT``, ``worker_cli``), with the
master listening on ``--master-bind``/``--master-port``. Workers started here are workers like any
other: every one joins the master by Locust's channel, gets its partition and the campaign from it,
sends its step events there (``scenarios.relay``) and keeps in its own folder what the master has not
yet acknowledged. Only the master writes the results folder; at its end it reports in
``workers.json`` what it received of each worker, and a worker that never joined or did not finish
makes the run partial.

This module builds the master's and the workers' command lines, starts the master and the local
workers (``processes`` starts the single Locust process and the browser), and reads that report.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from anef_harness.processes import LOCUSTFILE, Child, LoadPlan, free_port, locust_command, locust_outputs, spawn
from scenarios.relay import WORKERS_FILE

WORKERS_WAIT = 300.0  # seconds the master waits for its workers to join before it gives up


def parse_master(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:5557`` for IPv6) as a host and a port, or a ``ValueError`` saying why."""
    host, _, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT (e.g. 10.0.0.5:5557), got {text!r}")
    return host, int(port)


def worker_command(master: str, folder: Path) -> list[str]:
    """The Locust worker's command line (``anef-harness worker`` becomes it)."""
    host, port = parse_master(master)
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--worker",
        "--master-host",
        host,
        "--master-port",
        str(port),
        "--anef-spool",
        str(folder.resolve()),
        "--loglevel",
        "WARNING",
    ]


def start_master(plan: LoadPlan) -> list[Child]:
    """Locust's master, then the workers of this host (``plan.workers``): the master's exit ends the run."""
    logs = plan.results / "logs"
    port = plan.master_port or free_port()
    master = spawn(
        "locust-master",
        locust_command(
            plan,
            "--master",
            "--master-bind-host",
            plan.master_bind,
            "--master-bind-port",
            str(port),
            "--expect-workers",
            str(plan.all_workers),
            "--expect-workers-max-wait",
            f"{WORKERS_WAIT:g}",
            *locust_outputs(plan),
        ),
        logs / "locust-master.log",
    )
    # Local workers are workers like any other: they join by the channel and send their events.
    here = "127.0.0.1" if plan.master_bind in ("0.0.0.0", "::") else plan.master_bind  # noqa: S104 - a test
    folder = plan.workers_folder or plan.results.parent / f".{plan.results.name}-workers"
    workers = [
        spawn(
            f"locust-worker-{k}",
            [
                sys.executable,
                "-m",
                "anef_harness",
                "worker",
                "--master",
                f"[{here}]:{port}" if ":" in here else f"{here}:{port}",
                "--folder",
                str(folder / f"worker-{k}"),
            ],
            logs / f"locust-worker-{k}.log",
        )
        for k in range(plan.workers)
    ]
    return [master, *workers]


def waiting_for(plan: LoadPlan) -> str | None:
    """What to tell the person running the campaign while the master waits for remote workers."""
    if not plan.remote_workers:
        return None
    return (
        f"waiting for {plan.remote_workers} worker(s): anef-harness worker --master HOST:{plan.master_port} "
        f"(the master listens on {plan.master_bind})"
    )


def workers_lost(plan: LoadPlan) -> list[str]:
    """The workers whose results the master did not receive whole (``workers.json``, its report)."""
    if plan.all_workers <= 0:
        return []
    path = plan.results / WORKERS_FILE
    try:
        received = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [f"the master left no {WORKERS_FILE}: what each worker sent is unknown"]
    lost = []
    for number in range(plan.all_workers):
        got = received.get(f"worker-{number}")
        if got is None:
            lost.append(f"worker-{number} (never joined)")
        elif not got["finished"]:
            lost.append(
                f"worker-{number} on {got['host'] or '?'} (did not finish: "
                f"{got['events']} of its events reached the master and are kept)"
            )
    return lost
