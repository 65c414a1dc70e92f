"""A background worker that polls: the sync bridge and the mail sender are two of them."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod

log = logging.getLogger("reference_platform.workers")


class PollingWorker(ABC):
    """Calls ``run_once`` in a daemon thread until stopped, once per ``interval`` at most.

    A pass after a pass that found work waits out the rest of the interval too: under load the
    worker then takes what arrived meanwhile as one batch (one pass's reads and transactions for
    many items) instead of one item per pass, each pass competing with the requests for the
    process's one interpreter. An item waits at most an interval either way.
    """

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
            started = time.monotonic()
            try:
                self.run_once()
            except Exception:  # a failed batch is retried; the worker must not die
                log.exception("%s: batch failed, retrying", self.name)
            self._wake.wait(max(0.0, self.interval - (time.monotonic() - started)))
            self._wake.clear()
