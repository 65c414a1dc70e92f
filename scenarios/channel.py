"""The campaign over Locust's channel: what the master tells its workers, and what they send back.

The master (``locust --master``, started by ``anef-harness run``) gives each worker that connects a
partition of the population and sends it the resolved campaign, the run's name and the mailbox's
URL (Locust itself sends the target host); the worker needs nothing but the project and the
master's address (``anef-harness worker --master HOST:PORT``). Workers send their events back
through ``scenarios.relay``; at the end the master asks every worker to finish (stop its users,
send what is left and its oracle) and waits for each, or gives up on one Locust declared missing.
The fault schedule is not sent: the conductor applies it against the platform's admin API.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment
from locust.rpc.protocol import Message
from locust.runners import STATE_MISSING, MasterRunner, WorkerRunner

from core.errors import ConfigError
from scenarios.campaign_file import load_scenario
from scenarios.relay import (
    CAMPAIGN,
    EVENTS,
    EVENTS_ACK,
    FINISH,
    HELLO,
    ORACLE,
    ORACLE_ACK,
    REFUSED,
    RESEND_AFTER,
    SEND_INTERVAL,
    Collector,
    Relay,
)
from scenarios.spec import ScenarioSpec
from scenarios.users import close_runtime
from synthetic_users.oracle import Oracle
from synthetic_users.partition import Partition

log = logging.getLogger(__name__)

# Seconds a worker Locust declared missing has to come back before the master gives up on it at the
# end: counted from when it went missing, so one lost long before the end is not waited for again.
MISSING_GRACE = 10.0


@dataclass(frozen=True)
class Assignment:
    """What a worker is told when it joins."""

    run: str
    campaign: str  # the resolved campaign file's text
    partition: Partition
    mailbox: str | None


class Master:
    """The master's side: partitions handed out on connection, events collected, the finish awaited."""

    def __init__(
        self, environment: Environment, *, results: Path, campaign: Path, workers: int, partitions: int, mailbox: str
    ) -> None:
        runner = environment.runner
        assert isinstance(runner, MasterRunner)
        self.runner = runner
        self.environment = environment
        self.collector = Collector(results)
        self.run = results.name
        self.campaign = campaign.read_text(encoding="utf-8")
        self.workers = workers  # Locust workers own partitions 0..workers-1 (the browser, if any, the last)
        self.partitions = partitions
        self.mailbox = mailbox or None
        self.assigned: dict[str, int] = {}  # Locust client id → partition number
        self.missing_since: dict[str, float] = {}  # client id → when it went missing (monotonic), while it is
        self.finished = False
        runner.register_message(EVENTS, self._events)
        runner.register_message(ORACLE, self._oracle)
        runner.register_message(HELLO, self._hello)
        environment.events.test_stop.add_listener(lambda **_: self.finish())
        gevent.spawn(self._watch_missing)

    def _hello(self, environment: Environment, msg: Message, **_: Any) -> None:
        # Not on Locust's worker_connect: the worker registers its handlers only after it connected.
        client_id = msg.node_id
        number = self.assigned.get(client_id)
        if number is None:
            free = sorted(set(range(self.workers)) - set(self.assigned.values()))
            if not free:
                log.error("a worker (%s) joined but every partition is taken; it is sent away", client_id)
                self.runner.send_message(REFUSED, {"workers": self.workers}, client_id=client_id)
                return
            number = self.assigned[client_id] = free[0]
        self.collector.received(f"worker-{number}").client = client_id
        data = {"run": self.run, "campaign": self.campaign, "partition": number, "partitions": self.partitions}
        self.runner.send_message(CAMPAIGN, {**data, "mailbox": self.mailbox}, client_id=client_id)

    def _sender(self, msg: Message) -> str | None:
        """The worker a message claims to come from, if it is the client that partition was given to."""
        worker = str(msg.data.get("worker", ""))
        number = self.assigned.get(msg.node_id)
        if number is None or worker != f"worker-{number}":
            log.error("a message from %s claims %r, not its own partition: dropped", msg.node_id, worker)
            return None
        return worker

    def _events(self, environment: Environment, msg: Message, **_: Any) -> None:
        worker = self._sender(msg)
        if worker is not None:
            offset = self.collector.events(worker, int(msg.data["start"]), bytes(msg.data["lines"]))
            self.runner.send_message(EVENTS_ACK, {"offset": offset}, client_id=msg.node_id)

    def _oracle(self, environment: Environment, msg: Message, **_: Any) -> None:
        worker = self._sender(msg)
        if worker is not None and self.collector.oracle(worker, bytes(msg.data["oracle"]), int(msg.data["events"])):
            self.runner.send_message(ORACLE_ACK, {}, client_id=msg.node_id)

    def _missing(self, client_id: str) -> bool:
        node = self.runner.clients.get(client_id)
        return node is None or node.state == STATE_MISSING

    def _watch_missing(self) -> None:
        seen: set[str] = set()
        while not self.finished:
            missing = {client_id for client_id in self.assigned if self._missing(client_id)}
            self.missing_since = {c: self.missing_since.get(c, time.monotonic()) for c in missing}
            for client_id in missing - seen:
                number = self.assigned[client_id]
                self.collector.received(f"worker-{number}").missing.append(time.time())
                log.warning("worker-%d (%s) is missing", number, client_id)
            seen = missing
            gevent.sleep(1.0)

    def finish(self) -> None:
        """Ask every worker to finish and wait for its last events and its oracle; then close the
        results (``workers.json`` says who finished)."""
        if self.finished:
            return
        deadline = time.monotonic() + (self.environment.stop_timeout or 0.0) + 60.0
        missing_since = dict(self.missing_since)
        asked = 0.0
        while time.monotonic() < deadline:
            now = time.monotonic()
            pending = [c for c, n in self.assigned.items() if not self.collector.received(f"worker-{n}").finished]
            for client_id in pending:
                if self._missing(client_id):
                    missing_since.setdefault(client_id, now)
                else:
                    missing_since.pop(client_id, None)
            waiting = [c for c in pending if now - missing_since.get(c, now) < MISSING_GRACE]
            if not waiting:
                break
            if now - asked > RESEND_AFTER:  # asked again: the first may have been lost on a cut link
                for client_id in waiting:
                    self.runner.send_message(FINISH, {}, client_id=client_id)
                asked = now
            gevent.sleep(0.2)
        self.finished = True
        self.collector.close()
        options = self.environment.parsed_options
        if options is not None and options.headless:
            # The master stops by itself when its last worker goes missing, without quitting.
            gevent.spawn_later(1.0, self.runner.quit)


class Worker:
    """A worker's side: it waits for its assignment, sends its events, finishes when asked."""

    def __init__(
        self, environment: Environment, folder: Path, on_campaign: Callable[[ScenarioSpec, Path], None]
    ) -> None:
        runner = environment.runner
        assert isinstance(runner, WorkerRunner)
        self.runner = runner
        self.folder = folder
        self.on_campaign = on_campaign
        self.assignment: Assignment | None = None
        self.spec: ScenarioSpec | None = None
        self.relay: Relay | None = None
        self.snapshot: bytes | None = None
        self.oracle_kept = False
        self._finishing = False
        runner.register_message(CAMPAIGN, self._campaign)
        runner.register_message(REFUSED, self._refused)
        runner.register_message(EVENTS_ACK, self._ack)
        runner.register_message(ORACLE_ACK, self._oracle_ack)
        runner.register_message(FINISH, self._finish, concurrent=True)
        runner.send_message(HELLO, {})

    def _campaign(self, environment: Environment, msg: Message, **_: Any) -> None:
        data = msg.data
        here = self.folder / str(data["run"])
        here.mkdir(parents=True, exist_ok=True)
        path = here / "campaign.yaml"
        path.write_text(str(data["campaign"]), encoding="utf-8")
        try:
            spec = load_scenario(path)
        except ConfigError as exc:
            log.error("anef-harness worker: the campaign the master sent is not valid here: %s", exc)
            gevent.spawn(self.runner.quit)
            return
        self.assignment = Assignment(
            run=str(data["run"]),
            campaign=str(data["campaign"]),
            partition=Partition(int(data["partition"]), int(data["partitions"])),
            mailbox=data.get("mailbox") or None,
        )
        self.spec = spec
        log.info("joined run %s as worker-%d of %d", data["run"], data["partition"], data["partitions"])
        self.on_campaign(spec, path)

    def _refused(self, environment: Environment, msg: Message, **_: Any) -> None:
        log.error("anef-harness worker: the master has its %s workers already; this one stops", msg.data["workers"])
        gevent.spawn(self.runner.quit)

    def log_for(self, worker: str) -> Relay:
        """The relay that takes the place of the events file (``build_runtime``'s ``log_``)."""
        assert self.assignment is not None
        self.relay = Relay(self.folder / self.assignment.run / f"{worker}.jsonl", worker, self._send)
        gevent.spawn(self._pump, self.relay)
        return self.relay

    def keep_oracle(self, worker: str, oracle: Oracle) -> None:
        """The oracle, on the worker's disk and to be sent once the events are all acknowledged."""
        assert self.assignment is not None
        path = self.folder / self.assignment.run / f"{worker}.oracle.json"
        oracle.save(path)
        self.snapshot = path.read_bytes()

    def _send(self, kind: str, data: dict[str, Any]) -> None:
        try:
            self.runner.send_message(kind, data)
        except Exception as exc:
            log.warning("could not send %s to the master (%s); it is sent again later", kind, exc)

    def _pump(self, relay: Relay) -> None:
        while not self._finishing:
            relay.pump()
            gevent.sleep(SEND_INTERVAL)

    def _ack(self, environment: Environment, msg: Message, **_: Any) -> None:
        if self.relay is not None:
            self.relay.acknowledged(int(msg.data["offset"]))

    def _oracle_ack(self, environment: Environment, msg: Message, **_: Any) -> None:
        self.oracle_kept = True

    def _finish(self, environment: Environment, msg: Message, **_: Any) -> None:
        if self._finishing:
            return
        self._finishing = True
        self.runner.stop()  # the users stop (journeys in flight get the stop timeout)
        close_runtime()  # the spool is closed, the oracle kept
        relay = self.relay
        if relay is None or self.snapshot is None:
            return
        timeout = 60.0
        if not relay.drain(timeout, wait=gevent.sleep):
            log.error("the master did not acknowledge %d bytes of events", relay.spool.size - relay.acked)
            return
        deadline = time.monotonic() + timeout
        while not self.oracle_kept and time.monotonic() < deadline:
            self._send(ORACLE, {"worker": relay.worker, "oracle": self.snapshot, "events": relay.spool.size})
            for _tick in range(int(RESEND_AFTER / 0.1)):
                if self.oracle_kept:
                    break
                gevent.sleep(0.1)
        log.info("finished: %d bytes of events acknowledged, oracle kept: %s", relay.acked, self.oracle_kept)

    def unfinished(self) -> str | None:
        """What the master never acknowledged, in words (said when the worker quits)."""
        relay = self.relay
        if relay is None or relay.whole:
            return None
        return f"{relay.spool.size - relay.acked} bytes of events never acknowledged; they stay in {relay.spool.path}"
