"""Bare Locust users, the yardstick of ``benchmarks/harness_overhead.py``.

``BareLoginUser`` sends the three requests of the ``login`` journey (``POST /api/auth/login``
with a seeded applicant's credentials, then ``GET /api/me`` and ``GET /api/me/dossiers`` with the
bearer token) under the same names as the harness, with nothing around them: no steps, no
events, no oracle, no leases. ``HealthzUser`` loops on ``GET /healthz``. Neither waits.

    python -m locust -f benchmarks/bare_locustfile.py --headless --host URL --campaign FILE BareLoginUser
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, ClassVar

from locust import FastHttpUser, constant, events, task
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment

from scenarios.campaign_file import load_scenario
from synthetic_users.population import Population


@events.init_command_line_parser.add_listener
def _arguments(parser: LocustArgumentParser) -> None:
    parser.add_argument("--campaign", type=str, default="", help="campaign file whose applicants log in")


@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options is not None and options.campaign:
        population = Population(load_scenario(Path(options.campaign)).population)
        # Generated once, up front: the yardstick pays nothing per iteration for its identities.
        BareLoginUser.credentials = [
            (applicant.email, applicant.password) for applicant in map(population.applicant, range(len(population)))
        ]


class BareLoginUser(FastHttpUser):
    """The login journey's requests, applicant after applicant in index order (as the harness's
    lease table hands them out)."""

    wait_time = constant(0)
    network_timeout = 30.0  # the same timeouts as the harness's ApplicantUser
    connection_timeout = 10.0
    credentials: ClassVar[list[tuple[str, str]]] = []
    _next: ClassVar[itertools.count[int]] = itertools.count()

    def on_start(self) -> None:
        if not self.credentials:
            raise RuntimeError("BareLoginUser: --campaign FILE is required (its population logs in)")

    @task
    def login(self) -> None:
        email, password = self.credentials[next(self._next) % len(self.credentials)]
        response = self.client.post("/api/auth/login", json={"identifier": email, "password": password})
        if response.status_code != 200:
            return  # counted as a failure by Locust; the harness's journey stops here too
        headers = {"Authorization": f"Bearer {response.json()['token']}"}
        self.client.get("/api/me", headers=headers)
        self.client.get("/api/me/dossiers", headers=headers)


class HealthzUser(FastHttpUser):
    """The trivial endpoint, in a tight loop."""

    wait_time = constant(0)

    @task
    def healthz(self) -> None:
        self.client.get("/healthz")
