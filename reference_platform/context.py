"""Everything a request handler or worker needs, built once by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass, field

from reference_platform.clock import PlatformClock
from reference_platform.domain.security import Passwords
from reference_platform.domain.sessions import SessionsSeen
from reference_platform.domain.turns import Turns
from reference_platform.faults.injector import FaultInjector
from reference_platform.metrics import PlatformMetrics
from reference_platform.settings import Settings
from reference_platform.storage.blobs import BlobStore
from reference_platform.storage.db import Stores


@dataclass(frozen=True)
class PlatformContext:
    settings: Settings
    stores: Stores
    blobs: BlobStore
    faults: FaultInjector
    clock: PlatformClock
    passwords: Passwords
    metrics: PlatformMetrics
    login_turns: Turns = field(default_factory=Turns)  # login throttling, one attempt per key at a time
    sessions_seen: SessionsSeen = field(default_factory=SessionsSeen)  # last_seen to write (keeper.py)
