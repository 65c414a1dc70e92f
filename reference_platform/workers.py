"""A background worker that polls: the sync bridge and the mail sender are two of them."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

log = logging.getLogger("reference_platform.workers")


class PollingWorker(ABC):
    """Calls ``run_once`` in a daemon thread until stopped; sleeps only when idle."""

    name = "worker"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def run_once(self) -> int:
        """Do one batch of work; return how many items were handled."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                handled = self.run_once()
            except Exception:  # a failed batch is retried; the worker must not die
                log.exception("%s: batch failed, retrying", self.name)
                handled = 0
            if handled == 0:
                self._wake.wait(self.interval)
                self._wake.clear()
