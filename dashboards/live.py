"""Live metrics of a running campaign: one endpoint, fed from the step events; a push at the end.

The conductor tails the event files of every load process (workers and browser alike) and feeds
them here, so the endpoint carries the whole campaign's figures: in a distributed run Prometheus
scrapes this one endpoint, not each worker. Defects and rights at risk come from judging what was
recorded so far, at an interval that grows with the judgement's cost so that a long campaign is
not slowed by its own dashboards. Each pass runs in a short-lived child process
(``python -m checks.live_pass``), so that the memory a pass takes goes back to the system when it
ends and the conductor stays flat however long the campaign; the child dies with the conductor.
"""

from __future__ import annotations

import errno
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import push_to_gateway
from pydantic import ValidationError

from checks.live_pass import MODULE, LivePass
from core.errors import ConfigError, HarnessError
from core.processes import die_with_parent
from dashboards.endpoint import serve_metrics
from dashboards.metrics import HarnessMetrics, build_metrics
from scenarios.events import Event

DEFAULT_METRICS_PORT = 9646
JOB = "anef-harness"
MIN_JUDGE_INTERVAL = 10.0
JUDGE_COST_FACTOR = 10.0  # at most a tenth of one core on judging


class MetricsPortError(ConfigError):
    """The metrics port cannot be bound (exit 2, before any load)."""


class LivePassError(HarnessError):
    """A live pass could not judge the folder (its message: the child's one line, or how it ended)."""


class LiveMetrics:
    """The harness's metrics, served on a loopback port while a campaign runs."""

    def __init__(self, port: int, *, host: str = "127.0.0.1", judge_every: float = MIN_JUDGE_INTERVAL) -> None:
        self.metrics: HarnessMetrics = build_metrics()
        self.host = host
        self.judge_every = judge_every  # the shortest interval between two live passes
        self._server: WSGIServer | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._judge: threading.Thread | None = None
        self._child_lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None  # the live pass in flight
        self.last_judgement_s: float | None = None
        self.passes = 0  # live passes ended, judged or failed
        try:
            self._server = serve_metrics(port, host, self.metrics.registry)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise MetricsPortError(
                    f"--metrics-port {port}",
                    "the port is already in use (another campaign, or a Prometheus exporter?): choose another "
                    "with --metrics-port, 0 for any free port, or run without live metrics with --no-metrics",
                ) from None
            raise MetricsPortError(f"--metrics-port {port}", f"cannot serve metrics ({exc.strerror})") from None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def campaign(self, name: str, run_id: str) -> None:
        self.metrics.campaign.labels(name, run_id).set(1)

    def observe(self, events: Iterable[Event]) -> None:
        with self._lock:
            self.metrics.observe_all(events)

    def judge(self, defects: Mapping[str, int], at_risk: int) -> None:
        with self._lock:
            self.metrics.update_judgement(defects, at_risk)

    def judge_folder(self, results: Path) -> None:
        """Judge what the folder holds so far (detectors and rights at risk; no SLOs) in a child process.

        Raises ``LivePassError`` when the pass fails, or when ``stop_judging`` ended it."""
        started = time.monotonic()
        found = self._pass(results)
        self.judge(found.defects, found.at_risk)
        self.last_judgement_s = time.monotonic() - started

    def _pass(self, results: Path) -> LivePass:
        with self._child_lock:
            if self._stop.is_set():
                raise LivePassError("live judging was stopped")
            # Its own session: Ctrl-C reaches the conductor, which stops judging before the load.
            child = self._child = subprocess.Popen(  # noqa: S603 - our own module
                [sys.executable, "-m", MODULE, str(results)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent,  # forked from this thread, which waits for it
            )
        try:
            out, err = child.communicate()
        finally:
            with self._child_lock:
                self._child = None
        if child.returncode != 0:
            lines = err.decode(errors="replace").strip().splitlines()
            raise LivePassError(lines[-1] if lines else f"the live pass ended with exit {child.returncode}")
        try:
            return LivePass.model_validate_json(out)
        except ValidationError:
            raise LivePassError(f"the live pass printed no judgement: {out[:200]!r}") from None

    def judge_in_background(self, results: Path, *, on_error: Callable[[str], None] | None = None) -> None:
        """Keep judging the folder until ``stop``; a failed judgement is reported once, not fatal."""

        def loop() -> None:
            warned = False
            while not self._stop.wait(self._interval()):
                try:
                    self.judge_folder(results)
                except Exception as exc:  # a torn folder mid-run must never stop the campaign
                    if self._stop.is_set():
                        break  # the pass was ended by stop_judging: no failure
                    if on_error is not None and not warned:
                        on_error(f"live judgement failed ({exc}); the final judgement is unaffected")
                    warned = True
                finally:
                    self.passes += 1

        self._judge = threading.Thread(target=loop, name="anef-live-judge", daemon=True)
        self._judge.start()

    def _interval(self) -> float:
        cost = self.last_judgement_s or 0.0
        return max(self.judge_every, cost * JUDGE_COST_FACTOR)

    def push(self, gateway: str, run_id: str) -> None:
        """Push the final figures to a Pushgateway, grouped by ``run_id``; raises OSError if down."""
        push_to_gateway(gateway, job=JOB, registry=self.metrics.registry, grouping_key={"run_id": run_id}, timeout=10)

    def stop_judging(self) -> None:
        """Stop the live passes; a pass in flight is killed (its child reaped before this returns)."""
        self._stop.set()
        with self._child_lock:
            if self._child is not None:
                self._child.kill()
        if self._judge is not None:
            self._judge.join(timeout=60)
            self._judge = None

    def stop(self) -> None:
        self.stop_judging()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
