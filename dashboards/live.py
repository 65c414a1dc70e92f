"""Live metrics of a running campaign: one endpoint, fed from the step events; a push at the end.

The conductor tails the event files of every load process (workers and browser alike) and feeds
them here, so the endpoint carries the whole campaign's figures: in a distributed run Prometheus
scrapes this one endpoint, not each worker. Defects and rights at risk come from judging what was
recorded so far, in a background thread, at an interval that grows with the judgement's cost so
that a long campaign is not slowed by its own dashboards.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import push_to_gateway

from checks.evaluate import evaluate
from core.errors import ConfigError
from dashboards.endpoint import serve_metrics
from dashboards.metrics import HarnessMetrics, build_metrics
from scenarios.events import Event

DEFAULT_METRICS_PORT = 9646
JOB = "anef-harness"
MIN_JUDGE_INTERVAL = 10.0
JUDGE_COST_FACTOR = 10.0  # at most a tenth of one core on judging


class MetricsPortError(ConfigError):
    """The metrics port cannot be bound (exit 2, before any load)."""


class LiveMetrics:
    """The harness's metrics, served on a loopback port while a campaign runs."""

    def __init__(self, port: int, *, host: str = "127.0.0.1") -> None:
        self.metrics: HarnessMetrics = build_metrics()
        self.host = host
        self._server: WSGIServer | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._judge: threading.Thread | None = None
        self.last_judgement_s: float | None = None
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
        """Judge what the folder holds so far (detectors and rights at risk; no SLOs)."""
        started = time.monotonic()
        summary = evaluate(results, [])
        self.judge(summary.findings.counts, summary.rights.count if summary.rights is not None else 0)
        self.last_judgement_s = time.monotonic() - started

    def judge_in_background(self, results: Path, *, on_error: Callable[[str], None] | None = None) -> None:
        """Keep judging the folder until ``stop``; a failed judgement is reported once, not fatal."""

        def loop() -> None:
            warned = False
            while not self._stop.wait(self._interval()):
                try:
                    self.judge_folder(results)
                except Exception as exc:  # a torn folder mid-run must never stop the campaign
                    if on_error is not None and not warned:
                        on_error(f"live judgement failed ({exc}); the final judgement is unaffected")
                    warned = True

        self._judge = threading.Thread(target=loop, name="anef-live-judge", daemon=True)
        self._judge.start()

    def _interval(self) -> float:
        cost = self.last_judgement_s or 0.0
        return max(MIN_JUDGE_INTERVAL, cost * JUDGE_COST_FACTOR)

    def push(self, gateway: str, run_id: str) -> None:
        """Push the final figures to a Pushgateway, grouped by ``run_id``; raises OSError if down."""
        push_to_gateway(gateway, job=JOB, registry=self.metrics.registry, grouping_key={"run_id": run_id}, timeout=10)

    def stop_judging(self) -> None:
        self._stop.set()
        if self._judge is not None:
            self._judge.join(timeout=60)
            self._judge = None

    def stop(self) -> None:
        self.stop_judging()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
