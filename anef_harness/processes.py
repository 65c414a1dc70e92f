"""The load processes of a run: Locust (one process; a master and workers: ``distributed``) and the browser.

Each is a child process with its own log in the results folder. A single Locust process, or
Locust's master, writes the step events into ``events/`` as they come, so the conductor never
holds results in memory that a crash could lose; workers, here (``--workers``) or on other hosts
(``--expect-workers``, ``anef-harness worker``), send theirs to the master over Locust's channel
and keep them in their own folder until it acknowledges them. Stopping sends SIGTERM (Locust stops
its users and flushes), then SIGKILL if it hangs.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from core.processes import die_with_parent

LOCUSTFILE = Path(__file__).resolve().parent.parent / "scenarios" / "locustfile.py"
LOCUST_HTML = "locust.html"  # Locust's own report in the results folder


@dataclass
class LoadPlan:
    """What the load processes need to know, besides the campaign file."""

    results: Path
    campaign_file: Path
    target: str
    mailbox: str | None
    workers: int  # Locust workers started here; 0 (and no remote ones): a single Locust process
    browser_users: int
    stop_timeout: float
    web: bool = False
    web_port: int = 0
    duration: float = 0.0
    browser_journeys: dict[str, float] = field(default_factory=dict)
    population_json: str = "{}"
    journey_settings_json: str = "{}"
    pause: float = 1.0
    remote_workers: int = 0  # workers started elsewhere with `anef-harness worker`
    master_bind: str = "127.0.0.1"  # where the master listens for workers
    master_port: int = 0  # 0: any free port (local workers only)
    workers_folder: Path | None = None  # the local workers' own folders (never the results folder)

    @property
    def all_workers(self) -> int:
        return self.workers + self.remote_workers

    @property
    def partitions(self) -> int:
        """Locust processes own partitions 0..n-1; the browser process, when on, the last one."""
        return max(1, self.all_workers) + (1 if self.browser_users else 0)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    stopped: bool = False  # the conductor asked it to stop (SIGTERM): dying of it is no failure
    killed: bool = False  # it did not stop in time and was killed: a failure

    def alive(self) -> bool:
        return self.process.poll() is None

    def terminate(self, timeout: float) -> int:
        if self.alive():
            self.stopped = True
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)

    def wait(self, timeout: float) -> bool:
        """Wait for it to end by itself; whether it did."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    @property
    def failed(self) -> bool:
        code = self.process.returncode
        if code is None or code == 0:
            return False
        return self.killed or not (self.stopped and code == -signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(name: str, command: list[str], log: Path) -> Child:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = child_process(command, out)
    return Child(name, process, log)


# Linux sends PR_SET_PDEATHSIG's signal when the *thread* that forked the child ends, not the
# process: a child started from a short-lived thread (a drill restarting the platform from the
# fault schedule's thread) would be killed as soon as that thread is done. Children are therefore
# always forked from the main thread or from this one, which lives as long as the process.
_KEEPER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="child-keeper")


def child_process(command: list[str], out: IO[bytes], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A child in its own session, so that Ctrl-C reaches the conductor only and it stops the
    children in order (load first, platform last); the child dies with the conductor anyway."""

    # The child is killed (SIGKILL, not SIGTERM) when the conductor dies: on SIGTERM Locust stops its
    # users gracefully, waiting up to its stop timeout for journeys in flight, so the load went on for
    # seconds after the conductor died (or until its own timers ended, against a remote target).
    # Nothing recorded is lost: every event is written through as it is recorded, and attempts left
    # open are closed by judgement.
    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - our own commands
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True, preexec_fn=die_with_parent
        )

    if threading.current_thread() is threading.main_thread():
        return start()
    return _KEEPER.submit(start).result()


def locust_command(plan: LoadPlan, *extra: str) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--host",
        plan.target,
        "--campaign",
        str(plan.campaign_file),
        "--anef-results",
        str(plan.results),
        "--anef-workers",
        str(plan.partitions),
        "--stop-timeout",
        f"{plan.stop_timeout:g}",
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
    ]
    if plan.mailbox:
        command += ["--anef-mailbox", plan.mailbox]
    return command + list(extra)


def locust_outputs(plan: LoadPlan) -> list[str]:
    """The options of the Locust process that writes the results: its web UI or none, and Locust's
    own statistics beside ours (its CSV files and its HTML report, written at the end)."""
    ui = (
        [
            "--web-host",
            "127.0.0.1",
            "--web-port",
            str(plan.web_port),
            "--autostart",
            "--autoquit",
            "5",
            "--anef-view-only",
        ]
        if plan.web
        else ["--headless"]
    )
    stats = [
        "--csv",
        str(plan.results / "locust" / "stats"),
        "--only-summary",
        "--html",
        str(plan.results / LOCUST_HTML),
    ]
    (plan.results / "locust").mkdir(parents=True, exist_ok=True)
    return ui + stats


def start_locust(plan: LoadPlan) -> list[Child]:
    """The single Locust process of a run without workers (with workers: ``distributed.start_master``)."""
    return [spawn("locust", locust_command(plan, *locust_outputs(plan)), plan.results / "logs" / "locust.log")]


def start_browser(plan: LoadPlan) -> Child | None:
    """The browser process (``python -m scenarios.browser``), on the last partition."""
    if not plan.browser_users:
        return None
    weights = ",".join(f"{name}={weight:g}" for name, weight in plan.browser_journeys.items())
    command = [
        sys.executable,
        "-m",
        "scenarios.browser",
        "--target",
        plan.target,
        "--population-json",
        plan.population_json,
        "--journey-settings-json",
        plan.journey_settings_json,
        "--events",
        str(plan.results / "events" / "browser.jsonl"),
        "--oracle",
        str(plan.results / "oracle" / "browser.json"),
        "--duration",
        f"{plan.duration:g}",
        "--journeys",
        weights,
        "--partition",
        f"{plan.partitions - 1}/{plan.partitions}",
        "--browsers",
        str(plan.browser_users),
        "--pause",
        f"{plan.pause:g}",
    ]
    if plan.mailbox:
        command += ["--mailbox", plan.mailbox]
    return spawn("browser", command, plan.results / "logs" / "browser.log")
