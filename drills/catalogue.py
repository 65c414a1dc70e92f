"""Drills: actions of a campaign's fault schedule that break the harness's own world on purpose.

A fault (``contracts.faults``' catalogue) is the platform misbehaving while it runs; a drill
is a part of the run going away: the embedded platform killed (SIGKILL) and restarted on the
same port and data, a Locust worker killed, the mailbox stopped and started, the Pushgateway or
Prometheus cut off from the harness. Each is a plain function registered with ``@drill``; its
name is the ``action`` of a schedule entry (``{at: 30s, action: kill_platform}``). The campaign
goes on through every drill, and the results say what each broke.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.errors import HarnessError
from core.registry import Registry, suggest
from drills.admin import set_clock
from drills.relay import Relay
from drills.world import DrillArgs, DrillWorld, Embedded

Drill = Callable[[DrillWorld, DrillArgs], str]


@dataclass(frozen=True)
class DrillKind:
    name: str
    summary: str
    embedded_only: bool
    run: Drill


DRILLS: Registry[DrillKind] = Registry("action")


def drill(*, summary: str, embedded_only: bool = False) -> Callable[[Drill], Drill]:
    """Register a drill under its function's name; the function returns what it did, in words."""
    return DRILLS.register(lambda function: DrillKind(function.__name__, summary, embedded_only, function))


def unknown_drill(name: str) -> str:
    return f"unknown action {name!r}{suggest(name, DRILLS)}"


def _embedded(world: DrillWorld) -> Embedded:
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
