"""The campaign's journeys as a Locust test: ``locust -f scenarios/locustfile.py --campaign FILE``.

``anef-harness run`` starts Locust with this file (one process, or a master and workers) and
does what Locust alone cannot: it starts the embedded platform and the mailbox, seeds the
population, applies the fault schedule and judges the results. Run by hand, with Locust's web
UI, this file runs the journeys of the campaign against ``--host``, which must already be
seeded with the campaign's population (``anef-harness population seed``).

With Locust's master and workers, only the master reads the campaign file and writes the results
folder: a worker (``--worker``, started by ``anef-harness worker``) is sent the campaign and its
partition over Locust's channel and sends its events back (``scenarios/channel.py``).
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from scenarios.campaign_file import load_scenario, read_yaml, results_folder
from scenarios.channel import Master, Worker
from scenarios.locust_stats import current_percentiles_for_the_total_only
from scenarios.spec import ScenarioSpec
from scenarios.users import AgentUser, ApplicantUser, CampaignShape, build_runtime, close_runtime
from scenarios.web_guard import guard_web_ui, target_refusal
from synthetic_users.partition import Partition

__all__ = ["AgentUser", "ApplicantUser", "CampaignShape"]

log = logging.getLogger(__name__)
# The campaign's allow_targets: the hosts besides loopback the load may be sent to.
ALLOWED_TARGETS: list[str] = []
# This process's side of Locust's channel, when it is a master or a worker.
CHANNEL: list[Master | Worker] = []


@events.init_command_line_parser.add_listener
def _arguments(parser: LocustArgumentParser) -> None:
    parser.add_argument("--campaign", type=str, default="", help="campaign file (YAML)", include_in_web_ui=True)
    parser.add_argument("--anef-results", type=str, default="", help="results folder", include_in_web_ui=False)
    parser.add_argument("--anef-mailbox", type=str, default="", help="mailbox API URL", include_in_web_ui=False)
    parser.add_argument("--anef-workers", type=int, default=1, help="number of load workers", include_in_web_ui=False)
    parser.add_argument(
        "--anef-spool", type=str, default="anef-worker", help="a worker's own folder", include_in_web_ui=False
    )
    parser.add_argument(
        "--anef-view-only", action="store_true", help="the web UI only shows the run", include_in_web_ui=False
    )


@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    assert options is not None
    if isinstance(environment.runner, WorkerRunner):
        # Read now: the master's own options reach the worker with each spawn and overwrite these.
        CHANNEL[:] = [Worker(environment, Path(options.anef_spool), _campaign)]
        return
    if not options.campaign:
        raise SystemExit("anef-harness locustfile: --campaign FILE is required")
    current_percentiles_for_the_total_only(environment)  # a worker keeps none: Locust's own choice
    _campaign(load_scenario(Path(options.campaign)), Path(options.campaign))
    if environment.web_ui is not None and environment.web_ui.app is not None:
        guard_web_ui(environment.web_ui.app, view_only=options.anef_view_only)
    ApplicantUser.host = environment.host
    if isinstance(environment.runner, MasterRunner):
        CHANNEL[:] = [
            Master(
                environment,
                results=Path(options.anef_results),
                campaign=Path(options.campaign),
                workers=options.expect_workers,
                partitions=max(1, options.anef_workers),
                mailbox=options.anef_mailbox,
            )
        ]


def _campaign(spec: ScenarioSpec, path: Path) -> None:
    ALLOWED_TARGETS[:] = read_yaml(path).get("allow_targets") or []
    CampaignShape.spec = spec
    AgentUser.fixed_count = spec.agents.users


@events.test_start.add_listener
def _start(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    refusal = target_refusal(environment.host, ALLOWED_TARGETS)
    if refusal is not None:  # a host given through the web UI is guarded like one on the command line
        log.error("anef-harness locustfile: refusing to send load: %s", refusal)
        if runner is not None:
            gevent.spawn(runner.quit)
        raise SystemExit(2)
    if runner is not None:
        # Locust installs its own SIGTERM handler only after a shape's run; until then SIGTERM
        # would kill the process without its quitting hooks (events in memory, the oracle).
        gevent.signal_handler(signal.SIGTERM, lambda: gevent.spawn(runner.quit))
    if isinstance(environment.runner, MasterRunner):
        return
    options = environment.parsed_options
    assert options is not None
    channel = CHANNEL[0] if CHANNEL else None
    if isinstance(channel, Worker):
        if channel.assignment is None or channel.spec is None:
            log.error("anef-harness worker: the master started the load before sending the campaign")
            gevent.spawn(environment.runner.quit)  # type: ignore[union-attr]
            raise SystemExit(3)
        build_runtime(
            channel.spec,
            environment,
            results=None,
            mailbox_url=channel.assignment.mailbox,
            partition=channel.assignment.partition,
            log_=channel.log_for,
            keep_oracle=channel.keep_oracle,
        )
        return
    assert CampaignShape.spec is not None
    build_runtime(
        CampaignShape.spec,
        environment,
        results=Path(options.anef_results) if options.anef_results else results_folder(CampaignShape.spec.name),
        mailbox_url=options.anef_mailbox or None,
        partition=Partition(0, max(1, options.anef_workers)),
    )


@events.quitting.add_listener
def _quit(environment: Environment, **_: Any) -> None:
    close_runtime()
    channel = CHANNEL[0] if CHANNEL else None
    if isinstance(channel, Worker) and (left := channel.unfinished()):
        log.error("anef-harness worker: %s", left)
