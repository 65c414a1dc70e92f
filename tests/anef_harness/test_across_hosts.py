"""A campaign across hosts: a master, two worker hosts and the target, as network namespaces.

Each worker runs ``anef-harness worker --master HOST:PORT`` in its own folder; the master's results
folder must hold every worker's events, with the accounting closed, and no worker may write into it.
Then a worker host's process is killed mid-run, and a worker's link is cut and restored: what the
master acknowledged is never lost, and a run that lost a worker says it is partial.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.anef_harness.campaigns import ROOT, availability_slos, campaign
from tests.anef_harness.netns import Host, Network, unavailable
from tests.anef_harness.test_drills import SETTINGS, check_accounting
from tests.support import ADMIN_TOKEN, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.load]

MASTER_PORT = 5557
PLATFORM_PORT = 8000
MAILBOX_PORT = 8025


@dataclass
class Site:
    """The hosts, the target's processes running on one of them, and the test's folder."""

    network: Network
    master: Host
    workers: list[Host]
    target: Host
    folder: Path

    @property
    def target_url(self) -> str:
        return f"http://{self.target.address}:{PLATFORM_PORT}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("hosts")
    with Network() as network:
        master = network.host("master", 1)
        workers = [network.host("worker1", 2), network.host("worker2", 3)]
        target = network.host("target", 4)
        token = folder / "admin-token"
        token.write_text(ADMIN_TOKEN, encoding="utf-8")
        harness = [sys.executable, "-m", "anef_harness"]
        network.start(
            target,
            [*harness, "mailbox", "serve", "--host", target.address, "--allow-remote"],
            cwd=ROOT,
            log=folder / "mailbox.log",
        )
        network.start(
            target,
            [
                *harness,
                "platform",
                "serve",
                "--host",
                target.address,
                "--allow-remote",
                "--allowed-host",
                target.address,
                "--port",
                str(PLATFORM_PORT),
                "--admin-token-file",
                str(token),
                "--smtp",
                f"{target.address}:1025",
                "--data-dir",
                str(folder / "platform"),
            ],
            cwd=ROOT,
            log=folder / "platform.log",
        )
        for port in (PLATFORM_PORT, MAILBOX_PORT):
            wait_until(lambda port=port: network.reachable(master, target.address, port), timeout=60, interval=0.2)
        yield Site(network, master, workers, target, folder)


@dataclass
class Run:
    results: Path
    worker_folders: list[Path]
    conductor: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    seen_by_workers: set[str]

    def spool(self, worker: str) -> Path:
        """The worker's own record of its events, in whichever worker host's folder holds it."""
        found = [p for folder in self.worker_folders for p in folder.glob(f"anef-worker/*/{worker}.jsonl")]
        assert len(found) == 1, found
        return found[0]


def start_run(site: Site, name: str) -> Run:
    source = campaign(
        site.folder,
        name=name,
        duration="25s",
        target=site.target_url,
        mailbox=f"http://{site.target.address}:{MAILBOX_PORT}",
        allow_targets=[site.target.address],
        population={"size": 1500},
        browser={"users": 0},
        journey_settings=SETTINGS,
        slo=str(availability_slos(site.folder)),
    )
    results = site.folder / name / "results"
    command = [
        sys.executable,
        "-m",
        "anef_harness",
        "run",
        str(source),
        "--expect-workers",
        "2",
        "--master-bind",
        site.master.address,
        "--allow-remote",
        "--master-port",
        str(MASTER_PORT),
        "--out",
        str(results),
        "--quiet",
        "--metrics-port",
        "0",
    ]
    env = {**os.environ, "ANEF_ADMIN_TOKEN": ADMIN_TOKEN, "COLUMNS": "200"}
    conductor = site.network.start(site.master, command, cwd=ROOT, env=env, log=site.folder / name / "run.log")
    folders, workers = [], []
    for host in site.workers:
        folder = site.folder / name / host.name
        folder.mkdir(parents=True)
        workers.append(
            site.network.start(
                host,
                [sys.executable, "-m", "anef_harness", "worker", "--master", f"{site.master.address}:{MASTER_PORT}"],
                cwd=folder,  # the worker's own folder: its default --folder is ./anef-worker
                log=folder / "worker.log",
            )
        )
        folders.append(folder)
    return Run(results, folders, conductor, workers, set())


def watch_files(run: Run) -> None:
    """Note every file the worker processes hold open (their events file stays open all the run)."""
    for process in run.workers:
        fds = Path(f"/proc/{process.pid}/fd")
        try:
            names = [os.readlink(fd) for fd in fds.iterdir()]
        except OSError:  # it ended meanwhile
            continue
        run.seen_by_workers.update(names)


def finish(run: Run, timeout: float = 240.0) -> int:
    deadline = time.monotonic() + timeout
    while run.conductor.poll() is None and time.monotonic() < deadline:
        watch_files(run)
        time.sleep(0.5)
    code = run.conductor.wait(timeout=max(1.0, deadline - time.monotonic()))
    for process in run.workers:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return code


def wait_for_events(run: Run, index: int, count: int) -> str:
    """Wait until worker host ``index`` has recorded ``count`` events; the partition it was given."""

    def spooled() -> list[Path]:
        return list(run.worker_folders[index].glob("anef-worker/*/worker-*.jsonl"))

    wait_until(lambda: any(p.stat().st_size and _lines(p) >= count for p in spooled()), timeout=120, interval=0.2)
    return spooled()[0].stem


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def received(run: Run) -> dict[str, Any]:
    return dict(json.loads((run.results / "workers.json").read_text(encoding="utf-8")))


def nothing_acknowledged_lost(run: Run, worker: str) -> tuple[int, int]:
    """The master's events file of ``worker`` is its spool's beginning, at least as long as what the
    worker was told was acknowledged; (bytes at the master, bytes acknowledged)."""
    spool = run.spool(worker)
    kept = (run.results / "events" / f"{worker}.jsonl").read_bytes()
    assert spool.read_bytes()[: len(kept)] == kept
    mark = spool.with_suffix(".acked")
    acked = int(mark.read_text(encoding="utf-8")) if mark.exists() else 0
    assert len(kept) >= acked
    return len(kept), acked


def accounting_line(name: str, judged: dict[str, Any]) -> str:
    a = judged["accounting"]
    return (
        f"{name}: status {judged['status']}, attempted {a['attempted']} = outcomes {a['outcomes']} "
        f"(of which unfinished {a['unfinished']}), duplicates {a['duplicates']}"
    )


def no_worker_wrote_into_the_results(run: Run) -> None:
    results = str(run.results.resolve())
    assert run.seen_by_workers, "the workers' open files were never seen"
    assert not [name for name in run.seen_by_workers if name.startswith(results)]
    assert any("anef-worker" in name for name in run.seen_by_workers)  # their own folder


def test_two_worker_hosts_send_every_event_to_the_master(site: Site) -> None:
    run = start_run(site, "normal")
    code = finish(run)
    log = (site.folder / "normal" / "run.log").read_text(encoding="utf-8")
    assert code == 0, log
    got = received(run)
    assert set(got) == {"worker-0", "worker-1"}
    hosts = {entry["host"] for entry in got.values()}
    assert len(hosts) == 1  # the namespaces share the machine's name; the clients differ
    for worker, entry in got.items():
        assert entry["finished"] is True
        assert entry["events"] > 100
        # Every byte the worker recorded, once, in order.
        assert (run.results / "events" / f"{worker}.jsonl").read_bytes() == run.spool(worker).read_bytes()
        assert (run.results / "oracle" / f"{worker}.json").is_file()
    no_worker_wrote_into_the_results(run)
    judged = check_accounting(run.results)
    assert judged["accounting"]["unfinished"] == 0
    print(accounting_line("two worker hosts", judged))


def test_a_worker_host_killed_mid_run_leaves_a_partial_run_whose_accounting_holds(site: Site) -> None:
    run = start_run(site, "killed")
    worker = wait_for_events(run, 1, 200)
    run.workers[1].send_signal(signal.SIGKILL)
    code = finish(run)
    log = (site.folder / "killed" / "run.log").read_text(encoding="utf-8")
    assert code == 3, log
    assert f"load process(es) failed: {worker} on " in log
    got = received(run)
    assert got[worker]["finished"] is False
    assert got[worker]["missing_at"], "the master never saw the worker go missing"
    other = ({"worker-0", "worker-1"} - {worker}).pop()
    assert got[other]["finished"] is True
    kept, acked = nothing_acknowledged_lost(run, worker)
    assert kept > 0
    no_worker_wrote_into_the_results(run)
    judged = check_accounting(run.results)
    assert judged["status"] == "partial"
    assert judged["partial"] is True
    print(accounting_line("a worker killed", judged) + f"; {worker}: {kept} bytes at the master, {acked} acknowledged")


def test_a_worker_link_cut_and_restored_loses_nothing_acknowledged(site: Site) -> None:
    run = start_run(site, "cut")
    worker = wait_for_events(run, 0, 200)
    host = site.workers[0]
    before = nothing_acknowledged_lost(run, worker)
    site.network.cut(host)
    try:
        cut_at = time.monotonic()
        while time.monotonic() - cut_at < 5.0:  # Locust declares a worker missing after 3 s of silence
            watch_files(run)
            time.sleep(0.5)
    finally:
        site.network.restore(host)
    code = finish(run)
    log = (site.folder / "cut" / "run.log").read_text(encoding="utf-8")
    got = received(run)
    assert got[worker]["missing_at"], "the cut was not noticed"
    kept, _ = nothing_acknowledged_lost(run, worker)
    assert kept >= before[1]
    no_worker_wrote_into_the_results(run)
    judged = check_accounting(run.results)
    if got[worker]["finished"]:  # it came back: everything it recorded is at the master
        assert kept == run.spool(worker).stat().st_size
        # The whole run is judged: the cut also cut the worker's requests to the platform, so the
        # verdict may be a fail (connections reset, late answers), never "partial".
        assert code in (0, 1), log
        assert judged["status"] == "complete"
    else:  # declared missing: a partial run
        assert code == 3, log
        assert judged["partial"] is True
    print(
        accounting_line("a worker's link cut for 5 s", judged)
        + f"; {worker}: came back {got[worker]['finished']}, {kept} bytes at the master, "
        f"{got[worker]['duplicate_bytes']} duplicate bytes dropped"
    )
