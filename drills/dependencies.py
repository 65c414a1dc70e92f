"""The harness's own dependencies during a run: the mailbox, the Pushgateway, Prometheus.

None of them is needed to keep results: the step events are on disk. So a dependency that is
down is a warning, once per outage (and a note when it is back), and the campaign goes on. The
Pushgateway and Prometheus are reached through relays (``drills.relay``) that the ``cut``
and ``restore`` drills act on; the figures are pushed as the run goes, so an outage of the
Pushgateway in the middle of a run is seen, and again at the end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from dashboards.live import LiveMetrics
from drills.relay import Relay

CHECK_INTERVAL = 2.0  # seconds between two looks at the mailbox and Prometheus
PUSH_INTERVAL = 10.0  # seconds between two pushes to the Pushgateway


class Dependencies:
    """Watches the dependencies in a thread; ``warn`` receives one line per change of state."""

    def __init__(
        self,
        *,
        pushgateway: str | None,
        prometheus: str | None,
        mailbox: str | None,
        live: LiveMetrics | None,
        run_id: str,
        warn: Callable[[str], None],
        note: Callable[[str], None],
        interval: float = CHECK_INTERVAL,
        push_interval: float = PUSH_INTERVAL,
    ) -> None:
        self.relays: dict[str, Relay] = {}
        for name, url in (("pushgateway", pushgateway), ("prometheus", prometheus)):
            if url is not None:
                self.relays[name] = Relay(url).start()
        self.upstream = {"pushgateway": pushgateway, "prometheus": prometheus, "mailbox": mailbox}
        self.mailbox = mailbox
        self.live = live
        self.run_id = run_id
        self.warn = warn
        self.note = note
        self.interval = interval
        self.push_interval = push_interval
        self._pushed = 0.0
        self.down: dict[str, str] = {}  # dependency → why, while it is down
        self.outages: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # the watcher's thread and the schedule's both look

    def url(self, name: str) -> str | None:
        """The URL the harness uses for a dependency: through its relay when it has one."""
        relay = self.relays.get(name)
        return relay.url if relay is not None else self.upstream.get(name)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="dependencies", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for relay in self.relays.values():
            relay.stop()

    def check(self, *, push: bool = True) -> None:
        """Look at each dependency once (push the figures too); report what changed."""
        with self._lock:
            self._check(push)

    def _check(self, push: bool) -> None:
        if self.mailbox is not None:
            reply = _get(f"{self.mailbox}/api/v1/messages?limit=1")
            self._judge("mailbox", reply, "steps that read e-mail report error")
        if "prometheus" in self.relays:
            self._judge("prometheus", _get(f"{self.url('prometheus')}/-/healthy"), "live dashboards miss this stretch")
        if push and "pushgateway" in self.relays and self.live is not None:
            self._judge("pushgateway", self.push(), "the figures are pushed again when it is back")

    def push(self) -> str | None:
        """Push the live figures to the Pushgateway; why it failed, if it did."""
        gateway = self.url("pushgateway")
        if gateway is None or self.live is None:
            return None
        try:
            self.live.push(gateway, self.run_id)
        except OSError as exc:
            return str(exc) or exc.__class__.__name__
        return None

    def _judge(self, name: str, problem: str | None, consequence: str) -> None:
        shown = self.upstream.get(name) or name
        if problem is not None and name not in self.down:
            self.down[name] = problem
            self.outages[name] = self.outages.get(name, 0) + 1
            self.warn(f"{name} {shown} unreachable ({problem}): the campaign goes on; {consequence}")
        elif problem is None and name in self.down:
            del self.down[name]
            self.note(f"{name} {shown} reachable again")

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            due = time.monotonic() - self._pushed >= self.push_interval
            if due:
                self._pushed = time.monotonic()
            self.check(push=due)


def _get(url: str) -> str | None:
    """Why a GET failed, or None when it answered 2xx."""
    try:
        response = httpx.get(url, timeout=2.0)
    except httpx.HTTPError as exc:
        return exc.__class__.__name__
    return None if response.is_success else f"HTTP {response.status_code}"
