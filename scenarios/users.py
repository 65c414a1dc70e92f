"""Locust users: applicants running journeys (FastHttpUser) and prefecture agents working queues.

Importing this module imports Locust, which monkey-patches the process with gevent: only Locust
processes import it (through ``scenarios/locustfile.py``). Everything a process shares (the
population, the oracle, the leases of its partition, the event log, the arrival schedule) is
one ``Runtime``, built when the test starts, once the process knows its worker index.
"""

from __future__ import annotations

import functools
import json as jsonlib
import logging
import random
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import gevent
from gevent import Timeout as GeventTimeout
from locust import FastHttpUser, LoadTestShape, User, task
from locust.contrib.fasthttp import FAILURE_EXCEPTIONS
from locust.env import Environment
from locust.exception import CatchResponseError, StopUser
from locust.stats import StatsError

from scenarios.arrivals import ArrivalSchedule
from scenarios.client import ApplicantClient
from scenarios.cookies import SessionCookieJar
from scenarios.events import Event, EventLog, Outcome, StepEvent
from scenarios.journeys import JourneyContext, JourneyDef, get_journey, lease_applicant, run_journey
from scenarios.journeys.background import BackgroundAgent, Shift
from scenarios.journeys.runner import AgentDesk, MailboxReader, mailbox_reader
from scenarios.shapes import level_at
from scenarios.spec import ScenarioSpec
from scenarios.transport import Reply, TransportFailure
from synthetic_users.agents import AgentIdentity, agent_identities
from synthetic_users.oracle import Oracle
from synthetic_users.partition import Lease, LeaseTable, Partition
from synthetic_users.personas import get_persona
from synthetic_users.population import Applicant, Population, Weighted

log = logging.getLogger(__name__)

# How many applicants a virtual user looks at to find one a journey fits before trying another.
CANDIDATES = 64
ALL_STATUSES = frozenset(range(100, 600))
ABSOLUTE = re.compile(r"^https?://", re.IGNORECASE)  # as FastHttpSession tells a URL from a path


class LocustTransport:
    """Locust's FastHttpSession as the client's transport: every request shows in Locust's
    statistics under its route template, failed when its status was not expected.

    It sends through the session's own user agent (its connection pool, cookie jar, timeouts and
    headers, as ``FastHttpSession.request`` builds them) and reports each request itself with
    Locust's ``request`` event, as Locust documents for clients of its own: one event per
    request, ``exception`` None when the status was expected, ``CatchResponseError("status N")``
    when not, the transport's error when no answer came. That is what ``catch_response`` gave,
    without a response context per request (a tenth of the request's CPU on the harness's side).
    Redirects are never followed (the platform's API never redirects; following one could take
    the load to a host the target guard refused) and no status raises inside the user agent.
    The session's cookie jar becomes a ``SessionCookieJar`` (the same rules, less work per
    request), with the cookies it held.
    """

    def __init__(self, session: Any) -> None:
        self.session = session
        self.agent = session.client
        if not isinstance(self.agent.cookiejar, SessionCookieJar):
            jar = SessionCookieJar()
            for cookie in self.agent.cookiejar:
                jar.set_cookie(cookie)
            session.cookiejar = self.agent.cookiejar = jar
        # Every status is an answer to judge here, not an exception to build and catch; a redirect
        # is an unexpected status like any other. Set on this session's agent only.
        self.agent.valid_response_codes = ALL_STATUSES
        self.agent.redirect_response_codes = frozenset()
        self.fire = session.request_event.fire

    def send(
        self,
        method: str,
        path: str,
        *,
        name: str,
        expect: Collection[int],
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Reply:
        session = self.session
        sent = dict(headers) if headers else {}
        if session.auth_header:  # credentials in the host's URL, as FastHttpSession sends them
            sent["Authorization"] = session.auth_header
        if "Accept-Encoding" not in sent and "accept-encoding" not in sent:
            sent["Accept-Encoding"] = "gzip, deflate, br"
        payload: bytes | str | None = content
        if not content and json is not None:
            payload = jsonlib.dumps(json)
            if "Content-Type" not in sent and "content-type" not in sent:
                sent["Content-Type"] = "application/json"
            if "Accept" not in sent and "accept" not in sent:
                sent["Accept"] = "application/json"
        url = path if ABSOLUTE.match(path) else f"{session.base_url}{path}"
        user = session.user
        context = user.context() if user is not None else {}
        start_time = time.time()
        start = time.perf_counter()
        try:
            response = self.agent.urlopen(url, method=method, payload=payload, headers=sent, params=params)
            body = response.content or b""
        except FAILURE_EXCEPTIONS as error:
            self.fire(
                request_type=method,
                name=name,
                response_time=(time.perf_counter() - start) * 1000,
                response_length=0,
                exception=error,
                context=context,
                response=None,
                start_time=start_time,
                url=url,
            )
            timed_out = isinstance(error, GeventTimeout | TimeoutError)
            raise TransportFailure(f"{method} {name}: {error.__class__.__name__}: {error}", timeout=timed_out) from None
        status = response.status_code
        self.fire(
            request_type=method,
            name=name,
            response_time=(time.perf_counter() - start) * 1000,
            response_length=len(body),
            exception=None if status in expect else CatchResponseError(f"status {status}"),
            context=context,
            response=response,
            start_time=start_time,
            url=url,
        )
        return Reply(status, body)


class Log(Protocol):
    """Where a process's events go: the results folder (``EventLog``) or, on a worker, the master
    (``scenarios.relay.Relay``)."""

    def write(self, event: Event) -> None: ...

    def close(self) -> None: ...


class StepStats:
    """Writes each event to the log, then shows steps in Locust's statistics (type ``STEP``).

    A step goes straight into its own ``STEP`` entry (and, failed, into Locust's failures), not
    through Locust's ``request`` event: Locust's aggregated row counts HTTP requests only, and a
    step costs a third of what a fired event did. The harness's own figures (live progress,
    report, dashboards) come from the events, never from these entries.
    """

    def __init__(self, log_: Log, environment: Environment) -> None:
        self.log = log_
        self.environment = environment

    def write(self, event: Event) -> None:
        self.log.write(event)
        if isinstance(event, StepEvent):
            stats = self.environment.stats
            entry = stats.get(event.step, "STEP")
            entry.log(event.duration_ms, 0)  # type: ignore[arg-type]  # float ms, as Locust's own requests log
            if event.outcome is not Outcome.OK:
                error = StepOutcome(event.outcome.value)
                entry.log_error(error)
                key = StatsError.create_key("STEP", event.step, error)
                found = stats.errors.get(key)
                if found is None:
                    found = stats.errors[key] = StatsError("STEP", event.step, error)
                found.occurred()


class StepOutcome(Exception):
    """A step's outcome other than ok, as Locust's failure statistics show it."""


@dataclass
class Runtime:
    """What the users of one load process share."""

    spec: ScenarioSpec
    worker: str
    population: Population
    oracle: Oracle
    leases: LeaseTable
    sink: StepStats
    desk: AgentDesk
    mailbox: MailboxReader | None
    journeys: Weighted
    agents: list[AgentIdentity]
    schedule: ArrivalSchedule | None
    keep_oracle: Callable[[str, Oracle], None]
    partition: Partition
    _definitions: dict[str, JourneyDef] = field(default_factory=dict)  # looked up once per name

    @functools.cached_property
    def shift(self) -> Shift:
        """What the process's background agents share."""
        return Shift(
            population=self.population,
            oracle=self.oracle,
            leases=self.leases,
            sink=self.sink,
            worker=self.worker,
            settings=self.spec.journey_settings,
            desk=self.desk,
            mailbox=self.mailbox,
        )

    def definition(self, rng: random.Random) -> JourneyDef:
        name = self.journeys.draw(rng)
        found = self._definitions.get(name)
        if found is None:
            found = self._definitions[name] = get_journey(name)
        return found

    def lease_for(self, definition: JourneyDef) -> tuple[Lease, Applicant] | None:
        """A lease on an applicant the journey fits, and the applicant, or None after ``CANDIDATES`` tries."""
        return lease_applicant(definition, self.leases, self.population, self.oracle, tries=CANDIDATES)

    def close(self) -> None:
        self.sink.log.close()
        self.keep_oracle(self.worker, self.oracle)


_runtime: Runtime | None = None


def build_runtime(
    spec: ScenarioSpec,
    environment: Environment,
    *,
    results: Path | None,
    mailbox_url: str | None,
    partition: Partition,
    log_: Callable[[str], Log] | None = None,
    keep_oracle: Callable[[str, Oracle], None] | None = None,
) -> Runtime:
    """Build the process's runtime; called once, when its test starts. Its events and oracle go
    into ``results`` unless ``log_`` and ``keep_oracle`` (given the worker's name) take them."""
    global _runtime
    population = Population(spec.population)
    worker = worker_name(partition)
    if results is not None:
        (results / "oracle").mkdir(parents=True, exist_ok=True)
        folder = results
        log_ = log_ or (lambda name: EventLog(folder / "events" / f"{name}.jsonl"))
        keep_oracle = keep_oracle or (lambda name, oracle: oracle.save(folder / "oracle" / f"{name}.json"))
    if log_ is None or keep_oracle is None:
        raise ValueError("build_runtime: a results folder, or where the events and the oracle go")
    agents = agent_identities(
        sorted(spec.population.mix.prefectures), spec.population.agents_per_prefecture, spec.population.seed
    )
    schedule = None
    if spec.load.model == "open":
        load = spec.load
        rate = float(load.rate or 0.0)

        def arrivals(t: float) -> float:
            return level_at(load.shape, load.params, t, duration=spec.duration, peak=rate)

        schedule = ArrivalSchedule(
            arrivals,
            start=time.time(),
            duration=spec.duration,
            share=1.0 / partition.count,
            phase=partition.number / partition.count,
        )
    _runtime = Runtime(
        spec=spec,
        worker=worker,
        population=population,
        oracle=Oracle(population),
        leases=LeaseTable(len(population), partition),
        sink=StepStats(log_(worker), environment),
        desk=AgentDesk(agents),
        mailbox=mailbox_reader(mailbox_url),
        journeys=Weighted({name: weight for name, weight in spec.journeys.items() if weight > 0}),
        agents=agents,
        schedule=schedule,
        keep_oracle=keep_oracle,
        partition=partition,
    )
    return _runtime


def worker_name(partition: Partition) -> str:
    """The name of a load process's events file and oracle: ``worker-{number}``."""
    return f"worker-{partition.number}"


def runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("the campaign's runtime is not built yet (test_start has not fired)")
    return _runtime


def close_runtime() -> None:
    global _runtime
    if _runtime is not None:
        _runtime.close()
        _runtime = None


class ApplicantUser(FastHttpUser):
    """A virtual user acting for one applicant at a time (leased), journey after journey."""

    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.rng = random.Random(random.getrandbits(64))
        self.transport = LocustTransport(self.client)  # one per user: it keeps nothing of a journey

    def wait_time(self) -> float:
        rt = runtime()
        if rt.schedule is not None:
            return 0.0  # the arrival schedule paces the open model
        return self.rng.uniform(0.5, 1.5) * rt.spec.journey_settings.pause

    @task
    def journey(self) -> None:
        rt = runtime()
        scheduled = None
        if rt.schedule is not None:
            scheduled = rt.schedule.next()
            if scheduled is None:
                gevent.sleep(1.0)  # the schedule is over; the shape stops the run
                return
            gevent.sleep(max(0.0, scheduled - time.time()))
        definition = rt.definition(self.rng)
        found = rt.lease_for(definition)
        if found is None:
            definition = get_journey("login")  # fits anyone: the arrival is not dropped
            found = rt.lease_for(definition)
            if found is None:
                log.warning("every applicant of %s is busy; add applicants or lower the load", rt.worker)
                return
        lease, applicant = found
        with lease:
            # A new applicant starts with no cookie: the platform also accepts its session cookie,
            # and the previous applicant's must not act for this one.
            self.client.cookiejar.clear()
            ctx = JourneyContext(
                applicant=applicant,
                oracle=rt.oracle,
                persona=get_persona(applicant.persona),
                client=ApplicantClient(self.transport),
                desk=rt.desk,
                mailbox=rt.mailbox,
                settings=rt.spec.journey_settings,
                rng=self.rng,
            )
            run_journey(definition, ctx, rt.sink, worker=rt.worker, scheduled=scheduled)


class AgentUser(FastHttpUser):
    """A prefecture agent working its queue at its pace; each action is a recorded step, watched
    on the applicant's side (``scenarios.journeys.background``)."""

    fixed_count = 0  # set from the campaign when the locustfile is loaded
    started = 0
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        rt = runtime()
        if not rt.agents:
            raise StopUser()
        rank = AgentUser.started * rt.partition.count + rt.partition.number
        AgentUser.started += 1
        identity = rt.agents[rank % len(rt.agents)]
        pace = rt.spec.agents.pace
        self.agent = BackgroundAgent(
            identity,
            pace,
            rt.shift,
            LocustTransport(self.client),
            self._applicant_transport,
            random.Random(f"{rt.spec.population.seed}:{identity.login}:{rt.partition.number}"),
        )
        self.interval = 60.0 / pace.actions_per_minute

    def _applicant_transport(self) -> LocustTransport:
        # A look at an applicant's side starts with no cookie: the previous applicant's must not count.
        self.client.cookiejar.clear()
        return LocustTransport(self.client)

    def wait_time(self) -> float:
        return self.interval

    @task
    def work(self) -> None:
        self.agent.work_once()


class CampaignShape(LoadTestShape):
    """The campaign's shape: closed, users follow it; open, all virtual users run and the
    arrival schedule follows it. Ends the run at the campaign's duration."""

    spec: ScenarioSpec | None = None

    def tick(self) -> tuple[int, float, list[type[User]]] | None:
        spec = self.spec
        if spec is None:
            return None
        t = self.get_run_time()
        if t >= spec.duration:
            return None
        agents = spec.agents.users
        # Without agents, AgentUser must not be offered at all: a fixed_count of 0 would make
        # Locust weigh it like the applicants.
        classes: list[type[User]] = [ApplicantUser, AgentUser] if agents else [ApplicantUser]
        if spec.load.model == "open":
            return spec.load.users + agents, float(max(spec.load.users + agents, 50)), classes
        users = round(level_at(spec.load.shape, spec.load.params, t, duration=spec.duration, peak=spec.load.users))
        return users + agents, spec.load.spawn_rate + agents, classes
