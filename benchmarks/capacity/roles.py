"""The master-capacity benchmark's processes: a real master, and simulated workers speaking its protocol.

``master``: Locust's ``MasterRunner`` with the harness's ``Master`` on it: the code a campaign's master
runs to receive event batches over Locust's channel, validate every line, write it into ``events/`` and
acknowledge. Nothing else runs there (no users, no test), so its CPU is the receiving side's.

``workers``: N simulated workers as greenlets of one process, each a Locust channel client (a ZeroMQ
DEALER socket, as a worker's) that says ``client_ready`` and heartbeats like a Locust worker, asks for its
share (``HELLO``), and sends its events through the harness's own ``Relay`` (spool on disk, batches by
byte offset, resent when unacknowledged). Only the users are missing: the events are real event lines,
appended to each spool at the rate asked. Each level's figures go to a JSON file.

    python -m benchmarks.capacity.roles master PORT RESULTS CAMPAIGN PARTITIONS
    python -m benchmarks.capacity.roles workers PORT N RATES SECONDS MASTER_PID SPOOLS OUT
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import bisect  # noqa: E402 - after gevent's patching, as in a Locust process
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import asdict  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import psutil  # noqa: E402
from locust import __version__ as locust_version  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.rpc.protocol import Message  # noqa: E402
from locust.rpc.zmqrpc import Client  # noqa: E402

from benchmarks.capacity.levels import Level, event_lines, saturation  # noqa: E402
from scenarios.channel import Master  # noqa: E402
from scenarios.relay import CAMPAIGN, EVENTS_ACK, HELLO, SEND_INTERVAL, Relay  # noqa: E402

TICK = 0.05  # seconds between two appends to a spool
HEARTBEAT = 1.0  # seconds, as a Locust worker


def serve_master(port: int, results: Path, campaign: Path, partitions: int) -> None:
    environment = Environment()
    runner = environment.create_master_runner("127.0.0.1", port)
    Master(environment, results=results, campaign=campaign, workers=partitions, partitions=partitions, mailbox="")
    print("ready", flush=True)
    runner.greenlet.join()


class SimulatedWorker:
    """One worker: a channel client, its relay, and the bookkeeping of what was written when."""

    def __init__(self, port: int, number: int, spools: Path, lines: list[bytes]) -> None:
        self.id = f"sim-{number}_{uuid.uuid4().hex}"
        self.client = Client("127.0.0.1", port, self.id)  # type: ignore[no-untyped-call]
        self.spools = spools
        self.lines = lines
        self.relay: Relay | None = None
        self.rate = 0.0
        self.written = 0  # events appended to the spool
        self.marks: list[tuple[int, float, int]] = []  # (spool offset after an append, when, events so far)
        self.acked_events = 0
        self.lags: list[float] = []  # seconds from an append to the acknowledgement covering it

    def send(self, kind: str, data: Any) -> None:
        self.client.send(Message(kind, data, self.id))  # type: ignore[no-untyped-call]

    def start(self) -> None:
        self.send("client_ready", locust_version)  # as a Locust worker: its version as data
        self.send(HELLO, {})
        gevent.spawn(self._listen)
        gevent.spawn(self._heartbeat)

    def _listen(self) -> None:
        while True:
            msg = self.client.recv()  # type: ignore[no-untyped-call]
            if msg.type == CAMPAIGN:
                name = f"worker-{msg.data['partition']}"
                self.relay = Relay(self.spools / f"{name}.jsonl", name, self.send)
            elif msg.type == EVENTS_ACK and self.relay is not None:
                self._acknowledged(int(msg.data["offset"]))

    def _acknowledged(self, offset: int) -> None:
        assert self.relay is not None
        self.relay.acknowledged(offset)
        now = time.monotonic()
        covered = bisect.bisect_right(self.marks, (offset, float("inf"), 0))
        for _, when, events in self.marks[:covered]:
            self.lags.append(now - when)
            self.acked_events = events
        del self.marks[:covered]

    def _heartbeat(self) -> None:
        while True:
            self.send("heartbeat", {"state": "running", "current_cpu_usage": 0.0, "current_memory_usage": 0})
            gevent.sleep(HEARTBEAT)

    def run(self) -> None:
        """Append events at ``rate`` per second and pump the relay, as a worker's ``_pump`` does."""
        assert self.relay is not None
        relay, owed, last, cursor = self.relay, 0.0, time.monotonic(), 0
        gevent.spawn(self._pump)
        while True:
            gevent.sleep(TICK)
            now = time.monotonic()
            owed += self.rate * (now - last)
            last = now
            count = int(owed)
            if count:
                owed -= count
                chunk = [self.lines[(cursor + k) % len(self.lines)] for k in range(count)]
                cursor = (cursor + count) % len(self.lines)
                relay.spool.write_lines(b"".join(chunk))
                self.written += count
                self.marks.append((relay.spool.size, now, self.written))

    def _pump(self) -> None:
        assert self.relay is not None
        while True:
            self.relay.pump()
            gevent.sleep(SEND_INTERVAL)


def quantile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def simulate(
    port: int, count: int, rates: list[float], seconds: float, master_pid: int, spools: Path, out: Path
) -> None:
    lines = event_lines()
    workers = [SimulatedWorker(port, number, spools, lines) for number in range(count)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 30
    while any(worker.relay is None for worker in workers):
        if time.monotonic() > deadline:
            raise SystemExit("the master gave no share to every simulated worker within 30 s")
        gevent.sleep(0.05)
    for worker in workers:
        gevent.spawn(worker.run)
    master, own = psutil.Process(master_pid), psutil.Process(os.getpid())
    levels: list[Level] = []

    def cpu(process: psutil.Process) -> float:
        times = process.cpu_times()
        return float(times.user + times.system)

    for rate in rates:
        for worker in workers:
            worker.rate = rate
            worker.lags.clear()
        gevent.sleep(min(1.0, seconds / 4))  # the new rate settles
        written = sum(w.written for w in workers)
        acked = sum(w.acked_events for w in workers)
        began, master_began, own_began = time.monotonic(), cpu(master), cpu(own)
        for worker in workers:
            worker.lags.clear()
        gevent.sleep(seconds)
        took = time.monotonic() - began
        written_end = sum(w.written for w in workers)
        acked_end = sum(w.acked_events for w in workers)
        lags = [lag for worker in workers for lag in worker.lags]
        level = Level(
            workers=count,
            rate=rate,
            seconds=round(took, 2),
            offered=(written_end - written) / took,
            acknowledged=(acked_end - acked) / took,
            backlog_start=written - acked,
            backlog_end=written_end - acked_end,
            lag_p50_s=quantile(lags, 0.5),
            lag_p95_s=quantile(lags, 0.95),
            master_cpu=100 * (cpu(master) - master_began) / took,
            workers_cpu=100 * (cpu(own) - own_began) / took,
        )
        levels.append(level)
        out.write_text(json.dumps([asdict(each) for each in levels]))
        if saturation(level):
            break


def main(argv: list[str]) -> None:
    role, *args = argv
    if role == "master":
        port, results, campaign, partitions = args
        serve_master(int(port), Path(results), Path(campaign), int(partitions))
    elif role == "workers":
        port, count, rates, seconds, master_pid, spools, out = args
        simulate(
            int(port),
            int(count),
            [float(rate) for rate in rates.split(",")],
            float(seconds),
            int(master_pid),
            Path(spools),
            Path(out),
        )
    else:
        raise SystemExit(f"expected master or workers, got {role}")


if __name__ == "__main__":
    main(sys.argv[1:])
