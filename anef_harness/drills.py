"""Drills: actions of a campaign's fault schedule that break the harness's own world on purpose.

A fault (``reference_platform``'s catalogue) is the platform misbehaving while it runs; a drill
is a part of the run going away: the embedded platform killed (SIGKILL) and restarted on the
same port and data, a Locust worker killed, the mailbox stopped and started, the Pushgateway or
Prometheus cut off from the harness. Each is a plain function registered with ``@drill``; its
name is the ``action`` of a schedule entry (``{at: 30s, action: kill_platform}``). The campaign
goes on through every drill, and the results say what each broke.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from anef_harness.admin import AdminClient
from anef_harness.embedded import EmbeddedTarget, set_clock
from anef_harness.processes import Child
from anef_harness.relay import Relay
from contracts.fault_set import FaultSet
from core.errors import HarnessError

Dependency = Literal["pushgateway", "prometheus"]
DEPENDENCIES: tuple[Dependency, ...] = ("pushgateway", "prometheus")


@dataclass
class DrillWorld:
    """What drills act on: the embedded target, the load processes, the harness's dependencies."""

    admin: AdminClient
    reference_date: date
    embedded: EmbeddedTarget | None = None
    children: list[Child] = field(default_factory=list)
    faults: FaultSet = field(default_factory=FaultSet)  # the fault set last applied, set again after a restart
    relays: dict[str, Relay] = field(default_factory=dict)
    killed: list[str] = field(default_factory=list)  # load processes a drill killed


@dataclass(frozen=True)
class DrillArgs:
    worker: int | None = None
    dependency: Dependency | None = None


@dataclass(frozen=True)
class DrillKind:
    name: str
    summary: str
    embedded_only: bool
    run: Callable[[DrillWorld, DrillArgs], str]


DRILLS: dict[str, DrillKind] = {}


def drill(
    *, summary: str, embedded_only: bool = False
) -> Callable[[Callable[[DrillWorld, DrillArgs], str]], Callable[[DrillWorld, DrillArgs], str]]:
    """Register a drill under its function's name; the function returns what it did, in words."""

    def register(function: Callable[[DrillWorld, DrillArgs], str]) -> Callable[[DrillWorld, DrillArgs], str]:
        DRILLS[function.__name__] = DrillKind(function.__name__, summary, embedded_only, function)
        return function

    return register


def unknown_drill(name: str) -> str:
    close = difflib.get_close_matches(name, DRILLS, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(DRILLS)}"
    return f"unknown action {name!r}; {hint}"


def _embedded(world: DrillWorld) -> EmbeddedTarget:
    if world.embedded is None or world.embedded.platform is None:
        raise HarnessError("this drill needs the embedded target")
    return world.embedded


@drill(summary="kill the embedded platform (SIGKILL): no clean shutdown, requests in flight cut", embedded_only=True)
def kill_platform(world: DrillWorld, args: DrillArgs) -> str:
    platform = _embedded(world).platform
    assert platform is not None
    platform.kill()
    return f"platform killed (SIGKILL, exit {platform.exit_code})"


@drill(summary="start the embedded platform again, same port and data; clock and faults set again", embedded_only=True)
def restart_platform(world: DrillWorld, args: DrillArgs) -> str:
    platform = _embedded(world).platform
    assert platform is not None
    platform.restart()
    set_clock(platform.url, platform.admin_token, world.reference_date)
    world.admin.set_faults(world.faults)
    return f"platform restarted on {platform.url}"


@drill(summary="kill a Locust worker process (SIGKILL); its applicants are not taken over")
def kill_worker(world: DrillWorld, args: DrillArgs) -> str:
    name = f"locust-worker-{args.worker if args.worker is not None else 0}"
    child = next((c for c in world.children if c.name == name), None)
    if child is None:
        raise HarnessError(f"no load process {name} in this run (start it with --workers)")
    child.process.kill()
    child.process.wait()
    world.killed.append(name)
    return f"{name} killed (SIGKILL)"


@drill(summary="stop the embedded mailbox (SMTP and API): e-mail steps fail until it starts", embedded_only=True)
def stop_mailbox(world: DrillWorld, args: DrillArgs) -> str:
    mailbox = _embedded(world).mailbox
    mailbox.stop()
    return f"mailbox stopped (SMTP {mailbox.smtp_port}, API {mailbox.http_port} refused)"


@drill(summary="start the embedded mailbox again on the same ports, with the messages it kept", embedded_only=True)
def start_mailbox(world: DrillWorld, args: DrillArgs) -> str:
    mailbox = _embedded(world).mailbox
    mailbox.restart()
    return f"mailbox started again on {mailbox.api_url}"


@drill(summary="cut the harness off a dependency (pushgateway, prometheus): connections are refused")
def cut(world: DrillWorld, args: DrillArgs) -> str:
    relay = _relay(world, args)
    relay.cut()
    return f"{args.dependency} cut off ({relay.upstream} unreachable through {relay.url})"


@drill(summary="reconnect a dependency that was cut off")
def restore(world: DrillWorld, args: DrillArgs) -> str:
    relay = _relay(world, args)
    relay.restore()
    return f"{args.dependency} reachable again"


def _relay(world: DrillWorld, args: DrillArgs) -> Relay:
    if args.dependency is None:
        raise HarnessError("this drill needs a dependency (pushgateway or prometheus)")
    relay = world.relays.get(args.dependency)
    if relay is None:
        raise HarnessError(f"the campaign has no {args.dependency} (outputs.{args.dependency})")
    return relay
