"""Running one journey: steps with outcomes, reconciliation watches, persona behaviour.

A journey function receives a ``Run``. ``run.step(name, action)`` calls the action, times it
and records exactly one ``StepEvent`` per attempt; a failure the persona's patience allows is
retried after a think time, otherwise the journey stops. ``run.watch(name, probe)`` polls the
other side of the seam until the effect is visible, its deadline passes (``lost``), or it is
visible but wrong (``corrupt``); its duration is the time to consistency.
"""

from __future__ import annotations

import contextlib
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from scenarios.client import AgentClient, ApplicantClient, StepFailed
from scenarios.events import (
    AttemptEvent,
    Channel,
    Event,
    JourneyEvent,
    JourneyOutcome,
    Outcome,
    StepEvent,
    WithdrawnEvent,
)
from scenarios.transport import HttpxTransport, Reply, Transport, TransportFailure
from synthetic_users.agents import AgentIdentity
from synthetic_users.oracle import Oracle, Truth
from synthetic_users.personas import Persona
from synthetic_users.population import Applicant

T = TypeVar("T")

# Outcomes a persona retries: the platform may answer differently next time. A watch is not
# retried (it already waited its deadline), nor is a missing procedure (the page is the page).
RETRYABLE = frozenset({Outcome.ERROR, Outcome.TIMEOUT, Outcome.BLOCKED})


class JourneySettings(BaseModel):
    """How journeys behave in a campaign (the ``journey_settings`` section)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    think_time_scale: float = Field(
        1.0, ge=0, description="multiplies the personas' think times; campaigns compress hours into minutes"
    )
    pause: float = Field(
        1.0, ge=0, description="closed model: seconds a virtual user waits between two journeys (uniform ±50 %)"
    )
    retries: bool = Field(True, description="personas retry a failing step as their patience allows")
    abandonment: bool = Field(True, description="personas may give up a journey between steps")
    document_size_scale: float = Field(1.0, gt=0, le=5, description="multiplies the synthetic documents' sizes")
    poll_interval: float = Field(0.25, gt=0, le=10, description="seconds between two looks across the seam")
    deadlines: dict[str, float] = Field(
        default_factory=dict, description="seconds per watched step (e.g. renewal.reconcile: 30)"
    )
    default_deadline: float = Field(15.0, gt=0, description="seconds for a watched step without its own deadline")
    email_deadline: float = Field(30.0, gt=0, description="seconds for an e-mail to reach the mailbox")

    def deadline(self, step: str) -> float:
        if step in self.deadlines:
            return self.deadlines[step]
        from scenarios.journeys import watch_kind  # the registry imports this module

        return self.email_deadline if watch_kind(step) == "mail" else self.default_deadline


class EventSink(Protocol):
    def write(self, event: Event) -> None: ...


class Abandoned(Exception):
    """The persona gave up between two steps."""


class JourneyStopped(Exception):
    """A step failed for good; the journey cannot go on."""

    def __init__(self, step: str) -> None:
        super().__init__(step)
        self.step = step


class NotApplicable(Exception):
    """The applicant turned out not to fit the journey any more (a prefecture agent moved the
    dossier on meanwhile): the step being run records nothing and the journey is skipped."""


class AgentDesk:
    """Sessions of prefecture agents, one per prefecture, shared by the journeys of a process.

    Journeys act as the first agent of the applicant's prefecture when a lifecycle needs the
    back office (hand a card over, request complements, look at a dossier)."""

    def __init__(self, identities: list[AgentIdentity]) -> None:
        self._by_prefecture: dict[str, AgentIdentity] = {}
        for identity in identities:
            self._by_prefecture.setdefault(identity.prefecture, identity)
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def client(self, prefecture: str, transport: Transport) -> AgentClient:
        """A logged-in agent client for the prefecture (raises ``StepFailed`` when login fails)."""
        identity = self._by_prefecture.get(prefecture)
        if identity is None:
            raise StepFailed(Outcome.ERROR, f"no synthetic agent for prefecture {prefecture}")
        agent = AgentClient(transport)
        with self._lock:
            agent.token = self._tokens.get(prefecture)
        if agent.token is None:
            agent.login(identity.login, identity.password)
            with self._lock:
                self._tokens[prefecture] = str(agent.token)
        return agent

    def forget(self, prefecture: str) -> None:
        with self._lock:
            self._tokens.pop(prefecture, None)


_RESET_LINK = re.compile(r"jeton=([A-Za-z0-9_\-]+)")


class MailboxReader:
    """The applicant's view of their inbox, through the Mailpit API subset of the mailbox."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def _get(self, path: str, name: str, params: Mapping[str, str | int] | None = None) -> Reply:
        try:
            return self.transport.send("GET", path, name=name, expect=(200,), params=params)
        except TransportFailure:
            pass  # a read is idempotent: once more, on a new connection if the old one was cut
        try:
            return self.transport.send("GET", path, name=name, expect=(200,), params=params)
        except TransportFailure as exc:
            raise StepFailed(Outcome.ERROR, f"mailbox unreachable: {exc}") from None

    def message_ids(self, address: str) -> set[str]:
        reply = self._get("/api/v1/search", "mailbox search", {"query": f'to:"{address}"'})
        if reply.status != 200:
            raise StepFailed(Outcome.ERROR, f"mailbox search answered {reply.status}", status=reply.status)
        return {str(m["ID"]) for m in reply.json()["messages"]}

    def reset_messages(self, address: str, seen: set[str]) -> set[str]:
        """The ids of the messages carrying a reset link, among those not in ``seen``."""
        found = set()
        for message_id in self.message_ids(address) - seen:
            reply = self._get(f"/api/v1/message/{message_id}", "mailbox message")
            if reply.status == 200 and _RESET_LINK.search(str(reply.json().get("Text", ""))):
                found.add(message_id)
        return found

    def reset_token(self, address: str, seen: set[str]) -> str | None:
        """The token of a reset link in a message not in ``seen``, or None if none came yet."""
        for message_id in self.message_ids(address) - seen:
            reply = self._get(f"/api/v1/message/{message_id}", "mailbox message")
            if reply.status != 200:
                continue  # evicted between the search and the read
            found = _RESET_LINK.search(str(reply.json().get("Text", "")))
            if found:
                return found.group(1)
        return None


@dataclass
class JourneyContext:
    """Everything a journey has at hand for one applicant."""

    applicant: Applicant
    oracle: Oracle
    persona: Persona
    client: ApplicantClient
    desk: AgentDesk
    mailbox: MailboxReader | None
    settings: JourneySettings
    rng: random.Random

    @property
    def truth(self) -> Truth:
        # From the applicant at hand: a truth the run has not changed is derived from it, not from
        # the applicant generated again (a second generation per journey was a tenth of the load
        # generator's CPU on the login journey).
        return self.oracle.truth_of(self.applicant)

    def agent(self) -> AgentClient:
        return self.desk.client(self.applicant.prefecture, self.client.transport)


class Run:
    """One journey being run: records its steps and its end."""

    def __init__(
        self,
        journey: str,
        ctx: JourneyContext,
        sink: EventSink,
        *,
        worker: str,
        channel: Channel = "api",
        scheduled: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.journey = journey
        self.ctx = ctx
        self.sink = sink
        self.worker = worker
        self.channel = channel
        self.id = secrets.token_hex(16)  # 32 hex digits, as uuid4().hex, for a quarter of its cost
        self.sleep = sleep
        now = time.time()
        # Open model: the journey was due at ``scheduled``; if it starts late, the first step's
        # duration includes the wait (coordinated omission is not hidden).
        self.scheduled = scheduled if scheduled is not None else now
        self.lag = max(0.0, now - self.scheduled)
        self._steps = 0
        self._seq = 0  # attempts started in this journey: pairs each attempt with its outcome
        self._evidence: dict[str, str] = {}

    # --- steps -------------------------------------------------------------------------------

    def evidence(self, **values: object) -> None:
        """Attach evidence (ids, hashes) to the step being run."""
        self._evidence.update({key: str(value) for key, value in values.items()})

    def forget(self, *keys: str) -> None:
        """Take evidence back: what an earlier look of a watch said that a later one disproved."""
        for key in keys:
            self._evidence.pop(key, None)

    def step(self, name: str, action: Callable[[], T], *, retry: bool = True) -> T:
        full = f"{self.journey}.{name}"
        self._between_steps()
        attempt = 0
        while True:
            attempt += 1
            started, start_perf = self._start(full, attempt)
            self._evidence = {}
            try:
                value = action()
            except StepFailed as failure:
                self._record(full, failure.outcome, started, start_perf, attempt, failure)
                if retry and self._may_retry(failure.outcome, attempt):
                    self.think()
                    continue
                raise JourneyStopped(full) from None
            except JourneyStopped:
                raise
            except BaseException as exc:  # what ``_closing`` does, without a generator per attempt
                self._settle(exc, full, attempt, started, start_perf)
                raise
            self._record(full, Outcome.OK, started, start_perf, attempt, None)
            return value

    def watch(self, name: str, probe: Callable[[], bool], *, since: float | None = None) -> None:
        """Poll ``probe`` until it returns True (ok); it raises ``StepFailed`` for a wrong effect
        (corrupt), returns False while the effect is not visible yet. ``since``: when the watched
        action was taken (``time.perf_counter()``), for a watch that waited behind others: its
        deadline runs from the action, so a chain of watches on actions taken together ends within
        one deadline (it looks at least once)."""
        full = f"{self.journey}.{name}"
        deadline = self.ctx.settings.deadline(full)
        # A watch is the harness's look at the other side, not the applicant's act: it starts as soon as
        # the action it watches ended, and a persona does not abandon it (an effect left unwatched would
        # leave a defect firing where nobody looks).
        self._steps += 1
        started, start_perf = self._start(full, 1)
        if since is not None:
            deadline = max(0.0, deadline - max(0.0, start_perf - since))
        self._evidence = {}
        with self._closing(full, 1, started, start_perf):
            self._poll(full, probe, deadline, started, start_perf)

    def _poll(self, full: str, probe: Callable[[], bool], deadline: float, started: float, start_perf: float) -> None:
        interval = self.ctx.settings.poll_interval
        last: StepFailed | None = None
        answered = False  # a look got an answer that did not show the effect
        while True:
            try:
                if probe():
                    self._record(full, Outcome.OK, started, start_perf, 1, None)
                    return
                last, answered = None, True
            except StepFailed as failure:
                if failure.outcome in (Outcome.CORRUPT, Outcome.MISSING, Outcome.BLOCKED):
                    self._record(full, failure.outcome, started, start_perf, 1, failure)
                    raise JourneyStopped(full) from None
                last = failure  # the other side failed to answer: keep looking until the deadline
            if time.perf_counter() - start_perf >= deadline:
                # Lost when a look saw the effect missing, even if the last look failed to answer
                # (a 502 then): the watch did look. An error only when no look was ever answered.
                lost = StepFailed(Outcome.LOST, f"{full}: not visible within {deadline:g} s")
                if last is not None and answered:
                    lost = StepFailed(Outcome.LOST, f"{lost}; the last look failed: {last}")
                final = lost if answered or last is None else last
                self._record(full, final.outcome, started, start_perf, 1, final)
                raise JourneyStopped(full)
            self.sleep(min(interval, max(0.0, deadline - (time.perf_counter() - start_perf))))
            interval = min(interval * 1.5, 2.0)

    @contextlib.contextmanager
    def _closing(self, step: str, attempt: int, started: float, start_perf: float) -> Iterator[None]:
        """Every attempt ends recorded: an outcome, or withdrawn when it turned out not to apply
        or the run was stopped during it (Locust stopping its users, Ctrl-C). A fault of the
        harness itself is the step's ``error``. Outcomes the step recorded pass through."""
        try:
            yield
        except (StepFailed, JourneyStopped):
            raise
        except BaseException as exc:
            self._settle(exc, step, attempt, started, start_perf)
            raise

    def _settle(self, exc: BaseException, step: str, attempt: int, started: float, start_perf: float) -> None:
        """Close an attempt that ended in neither an outcome nor ``JourneyStopped`` (the caller re-raises)."""
        if isinstance(exc, NotApplicable):
            self._withdraw(step, attempt, "not applicable: the applicant's situation changed during the step")
        elif isinstance(exc, Exception):
            failure = StepFailed(Outcome.ERROR, f"harness error: {exc.__class__.__name__}: {exc}")
            self._record(step, Outcome.ERROR, started, start_perf, attempt, failure)
        else:  # GreenletExit, KeyboardInterrupt, SystemExit: stopped, not failed
            self._withdraw(step, attempt, "stopped: the run ended during the step")

    def _withdraw(self, step: str, attempt: int, reason: str) -> None:
        self.sink.write(
            WithdrawnEvent(
                time=time.time(),
                journey=self.journey,
                step=step,
                journey_id=self.id,
                worker=self.worker,
                channel=self.channel,
                applicant=self.ctx.applicant.index,
                attempt=attempt,
                seq=self._seq,
                reason=reason,
            )
        )

    def think(self) -> None:
        scale = self.ctx.settings.think_time_scale
        if scale > 0:
            self.sleep(self.ctx.persona.think(self.ctx.rng) * scale)

    # --- the end -----------------------------------------------------------------------------

    def finish(self, outcome: JourneyOutcome, failed_step: str | None = None) -> None:
        self.sink.write(
            JourneyEvent(
                time=self.scheduled,
                journey=self.journey,
                journey_id=self.id,
                outcome=outcome,
                duration_ms=(time.time() - self.scheduled) * 1000,
                worker=self.worker,
                channel=self.channel,
                applicant=self.ctx.applicant.index,
                failed_step=failed_step,
                lag_ms=self.lag * 1000,
            )
        )

    # --- inside ------------------------------------------------------------------------------

    def _between_steps(self) -> None:
        if self._steps > 0:
            if self.ctx.settings.abandonment and self.ctx.rng.random() < self.ctx.persona.abandonment:
                raise Abandoned()
            self.think()
        self._steps += 1

    def _start(self, step: str, attempt: int) -> tuple[float, float]:
        """The attempt's start, wall and monotonic (the first step starts at the schedule),
        announced in the log so that an attempt a crash cuts short is still accounted for."""
        now, perf = time.time(), time.perf_counter()
        if self._steps == 1 and self.lag > 0:
            now, perf = self.scheduled, perf - self.lag
        self._seq += 1
        self.sink.write(
            AttemptEvent(
                time=now,
                journey=self.journey,
                step=step,
                journey_id=self.id,
                worker=self.worker,
                channel=self.channel,
                applicant=self.ctx.applicant.index,
                attempt=attempt,
                seq=self._seq,
            )
        )
        return now, perf

    def _may_retry(self, outcome: Outcome, attempt: int) -> bool:
        return self.ctx.settings.retries and outcome in RETRYABLE and attempt <= self.ctx.persona.patience

    def _record(
        self,
        step: str,
        outcome: Outcome,
        started: float,
        start_perf: float,
        attempt: int,
        failure: StepFailed | None,
    ) -> None:
        evidence: dict[str, str] = {**self._evidence, **(failure.evidence if failure else {})}
        if failure is not None and self.ctx.client.applicant_id:
            # The platform's id of the applicant lets scoring match a failure with the ledger.
            evidence["applicant_id"] = self.ctx.client.applicant_id
        self.sink.write(
            StepEvent(
                time=started,
                journey=self.journey,
                step=step,
                outcome=outcome,
                duration_ms=(time.perf_counter() - start_perf) * 1000,
                journey_id=self.id,
                worker=self.worker,
                channel=self.channel,
                applicant=self.ctx.applicant.index,
                attempt=attempt,
                status=failure.status if failure else None,
                message=failure.message if failure else "",
                evidence=evidence,
                seq=self._seq,
            )
        )
        # A retried first step is no longer late: only the first attempt carries the lag.
        self.lag = 0.0


def mailbox_reader(url: str | None) -> MailboxReader | None:
    return MailboxReader(HttpxTransport(url, timeout=10.0)) if url else None
