"""What drills act on, described by what they call: the embedded platform and mailbox, the load
processes, the relays in front of the harness's dependencies.

The conductor owns the real objects (``anef_harness.embedded``, ``anef_harness.processes``);
drills see them through these protocols, so this package never imports the composition root.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

from contracts.fault_set import FaultSet
from drills.admin import AdminClient
from drills.relay import Relay
from synthetic_users.mailbox import MailboxServer

Dependency = Literal["pushgateway", "prometheus"]
DEPENDENCIES: tuple[Dependency, ...] = ("pushgateway", "prometheus")


class Platform(Protocol):
    """The embedded platform's process: killed and started again on the same port and data."""

    @property
    def url(self) -> str: ...

    @property
    def admin_token(self) -> str: ...

    @property
    def exit_code(self) -> int | None: ...

    def kill(self) -> None: ...

    def restart(self) -> None: ...


class Embedded(Protocol):
    """The embedded target: its platform (once started) and its mailbox."""

    @property
    def platform(self) -> Platform | None: ...

    @property
    def mailbox(self) -> MailboxServer: ...


class LoadProcess(Protocol):
    """A Locust process of the run, by name (``locust-worker-0``…)."""

    @property
    def name(self) -> str: ...

    @property
    def process(self) -> subprocess.Popen[bytes]: ...


@dataclass
class DrillWorld:
    """What drills act on: the embedded target, the load processes, the harness's dependencies."""

    admin: AdminClient
    reference_date: date
    embedded: Embedded | None = None
    children: Sequence[LoadProcess] = field(default_factory=list)
    faults: FaultSet = field(default_factory=FaultSet)  # the fault set last applied, set again after a restart
    relays: dict[str, Relay] = field(default_factory=dict)
    killed: list[str] = field(default_factory=list)  # load processes a drill killed


@dataclass(frozen=True)
class DrillArgs:
    worker: int | None = None
    dependency: Dependency | None = None
