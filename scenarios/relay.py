"""Events from the workers to the master: a worker's spool, its sender, and the master's collector.

Only the master writes the results folder. A worker appends each event it records to its spool, a
JSON Lines file on its own disk (the same lines as ``events/``), and sends the spool to the master in
batches named by their byte offset in it; the master writes each byte once, in order, into
``events/{worker}.jsonl`` and acknowledges how far it has written. What is not acknowledged is sent
again (after a reconnect, or when no acknowledgement came for a while); a batch the master already
has is dropped by its offset, and one that would leave a gap waits for the bytes before it. A worker
that dies loses only what it had not yet recorded; the master keeps every byte it acknowledged.

Nothing here knows Locust: ``send`` is the channel's (``runner.send_message``), and the Locust
binding is ``scenarios/channel.py``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from scenarios.events import Event, EventLog, decode

# Message types on Locust's channel.
HELLO = "anef_hello"  # worker → master: ready to be given a share (once its handlers are in place)
CAMPAIGN = "anef_campaign"  # master → worker: the resolved campaign and the worker's share
REFUSED = "anef_refused"  # master → worker: every partition is taken
EVENTS = "anef_events"  # worker → master: a batch of spool lines
EVENTS_ACK = "anef_events_ack"  # master → worker: how far the worker's events are written
ORACLE = "anef_oracle"  # worker → master: the oracle's snapshot, once every event is sent
ORACLE_ACK = "anef_oracle_ack"  # master → worker: the worker's results are whole
FINISH = "anef_finish"  # master → worker: stop the users, send what is left

BATCH_BYTES = 256 * 1024  # at most this much per message
IN_FLIGHT = 4 * 1024 * 1024  # sent and not acknowledged, at most: a cut link does not fill the queues
RESEND_AFTER = 3.0  # seconds without an acknowledgement before sending the unacknowledged part again
SEND_INTERVAL = 0.25  # seconds between two looks at the spool

Send = Callable[[str, dict[str, Any]], None]


class Relay:
    """A worker's event log (``write(event)``, ``close()``): the spool, and what of it the master has.

    ``pump()`` sends what is new or due again; ``acknowledged(offset)`` records the master's answer
    (also on disk, beside the spool, so that the worker's operator can see what never arrived)."""

    def __init__(self, spool: Path, worker: str, send: Send, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.worker = worker
        self.spool = EventLog(spool)
        self._reader = spool.open("rb")
        self._mark = spool.with_suffix(".acked")
        self._send = send
        self._clock = clock
        self._lock = threading.Lock()
        self.sent = self.acked = 0
        self._waiting_since = clock()  # when the oldest unacknowledged byte was (re)sent
        self.resent = 0  # times the unacknowledged part was sent again

    def write(self, event: Event) -> None:
        self.spool.write(event)

    def close(self) -> None:
        """No more events: the spool is closed (and fsynced); what is in it may still be sent."""
        self.spool.close()

    @property
    def whole(self) -> bool:
        """The master has every event recorded."""
        return self.acked >= self.spool.size

    def pump(self) -> None:
        """Send what is new, and the unacknowledged part again when its acknowledgement is late."""
        with self._lock:
            now = self._clock()
            if self.acked < self.sent and now - self._waiting_since > RESEND_AFTER:
                self.sent = self.acked  # go back: the master drops what it already has
                self.resent += 1
            while self.sent < self.spool.size and self.sent - self.acked < IN_FLIGHT:
                lines = self._read(self.sent)
                if not lines:
                    break
                if self.sent == self.acked:
                    self._waiting_since = now
                self._send(EVENTS, {"worker": self.worker, "start": self.sent, "lines": lines})
                self.sent += len(lines)

    def acknowledged(self, offset: int) -> None:
        with self._lock:
            if offset <= self.acked:
                return
            self.acked = min(offset, self.spool.size)
            self.sent = max(self.sent, self.acked)
            self._waiting_since = self._clock()
        tmp = self._mark.with_suffix(".tmp")
        tmp.write_text(f"{self.acked}\n", encoding="utf-8")
        tmp.replace(self._mark)

    def _read(self, start: int) -> bytes:
        """Whole lines of the spool from ``start``, at most ``BATCH_BYTES`` (one line if longer)."""
        self._reader.seek(start)
        data = self._reader.read(min(BATCH_BYTES, self.spool.size - start))
        cut = data.rfind(b"\n") + 1
        if cut == 0 and data:  # a line longer than a batch: send it whole
            self._reader.seek(start)
            data = self._reader.read(self.spool.size - start)
            cut = data.find(b"\n") + 1
        return data[:cut]

    def drain(self, timeout: float, *, wait: Callable[[float], None] = time.sleep) -> bool:
        """Send until the master has everything or ``timeout`` passes; whether it has."""
        deadline = self._clock() + timeout
        while not self.whole and self._clock() < deadline:
            self.pump()
            wait(SEND_INTERVAL)
        return self.whole

    def forget(self) -> None:
        self._reader.close()


@dataclass
class Received:
    """What the master has of one worker."""

    worker: str
    log: EventLog
    client: str = ""
    offset: int = 0  # bytes of the worker's spool written into the results folder
    duplicates: int = 0  # bytes received again and dropped
    gaps: int = 0  # batches that came before the bytes preceding them (sent again later)
    rejected: int = 0  # batches that were not event lines
    finished: bool = False  # the oracle came, with every event before it
    missing: list[float] = field(default_factory=list)  # when Locust declared the worker missing


class Collector:
    """The master's side: each worker's events written once and in order into ``events/``."""

    def __init__(self, results: Path) -> None:
        self.results = results
        self.workers: dict[str, Received] = {}

    def received(self, worker: str) -> Received:
        if worker not in self.workers:
            self.workers[worker] = Received(worker, EventLog(self.results / "events" / f"{worker}.jsonl"))
        return self.workers[worker]

    def events(self, worker: str, start: int, lines: bytes) -> int:
        """Write the new part of a batch; the offset to acknowledge."""
        state = self.received(worker)
        if start > state.offset:
            state.gaps += 1
            return state.offset
        skip = state.offset - start
        if skip >= len(lines):
            state.duplicates += len(lines)
            return state.offset
        fresh = lines[skip:]
        if (skip and lines[skip - 1 : skip] != b"\n") or not _event_lines(fresh):
            state.rejected += 1
            return state.offset
        state.duplicates += skip
        state.log.write_lines(fresh)
        state.offset += len(fresh)
        return state.offset

    def oracle(self, worker: str, snapshot: bytes, events_end: int) -> bool:
        """Keep the worker's oracle once every event before it is written; whether it is kept."""
        state = self.received(worker)
        if state.offset < events_end:
            return False
        if not state.finished:
            path = self.results / "oracle" / f"{worker}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_bytes(snapshot)
            tmp.replace(path)
            state.finished = True
        return True

    def close(self) -> None:
        """Close the event files and write ``workers.json``: what the master received from whom."""
        for state in self.workers.values():
            state.log.close()
        report = {
            name: {
                "client": s.client,
                "host": s.client.rpartition("_")[0] if "_" in s.client else s.client,
                "events": s.log.written,
                "bytes": s.offset,
                "finished": s.finished,
                "duplicate_bytes": s.duplicates,
                "gaps": s.gaps,
                "rejected_batches": s.rejected,
                "missing_at": s.missing,
            }
            for name, s in sorted(self.workers.items())
        }
        (self.results / WORKERS_FILE).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


WORKERS_FILE = "workers.json"


def _event_lines(data: bytes) -> bool:
    if not data.endswith(b"\n"):
        return False
    try:
        for line in data.splitlines():
            decode(line)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return False
    return True
