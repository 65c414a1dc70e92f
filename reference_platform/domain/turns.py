"""One at a time per key, within the platform's process: what makes login throttling atomic.

A login attempt reads its counters, checks the password, and writes a failure; two attempts on the
same account from the same client in parallel would both read "4 failures" and both be checked.
Taking turns per key makes read-check-write one step, without a database write before the check
(the success path stays one write). The platform serves from one process; several processes
(several uvicorn workers on PostgreSQL) would each take turns of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Turns:
    """A lock per key, created on first use and dropped when nobody waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def of(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
