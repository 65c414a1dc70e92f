"""The master-capacity benchmark's figures: a level of load, what saturates it, the event lines sent.

Imports neither gevent nor Locust: the benchmark's parent process and the tests read these.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from scenarios.events import AttemptEvent, JourneyEvent, JourneyOutcome, Outcome, StepEvent, encode


@dataclass(frozen=True)
class Level:
    """One level of load: N workers at ``rate`` events/s each, for ``seconds``."""

    workers: int
    rate: float
    seconds: float
    offered: float  # events/s appended to the spools, all workers
    acknowledged: float  # events/s the master wrote and acknowledged
    backlog_start: int  # events appended and not yet acknowledged, at the level's start
    backlog_end: int
    lag_p50_s: float
    lag_p95_s: float
    master_cpu: float  # % of one core
    workers_cpu: float  # % of one core, the simulated workers' process


SATURATED_CPU = 90.0  # % of one core: the master is one gevent loop on one core
LAG_LIMIT_S = 2.0


def saturation(level: Level) -> str:
    """What ran out at this level, or ``""``: the master's core, or its acknowledgements fall behind
    (the backlog grows and the lag exceeds the limit); the simulated workers' own core is named when
    it, not the master, ran out."""
    reasons = []
    if level.master_cpu >= SATURATED_CPU:
        reasons.append("master CPU")
    behind = level.backlog_end > level.backlog_start + level.offered * 0.5 and level.acknowledged < 0.95 * level.offered
    if behind or level.lag_p95_s > LAG_LIMIT_S:
        reasons.append("acknowledgements fall behind")
    if level.workers_cpu >= SATURATED_CPU:
        reasons.append("simulated workers' CPU")
    return " + ".join(reasons)


def event_lines(count: int = 600) -> list[bytes]:
    """Lines as a login journey leaves them: attempt, step, attempt, step, journey, over and over."""
    lines: list[bytes] = []
    now = time.time()
    while len(lines) < count:
        journey_id, index = uuid.uuid4().hex, len(lines)
        common: dict[str, Any] = {"journey": "login", "journey_id": journey_id, "worker": "worker-0"}
        for seq, step in enumerate(("login.submit", "login.dashboard"), start=1):
            lines.append(encode(AttemptEvent(time=now, step=step, applicant=index, seq=seq, **common)))
            step_event = StepEvent(
                time=now, step=step, outcome=Outcome.OK, duration_ms=41.5, applicant=index, seq=seq, **common
            )
            lines.append(encode(step_event))
        lines.append(
            encode(JourneyEvent(time=now, outcome=JourneyOutcome.OK, duration_ms=90.0, applicant=index, **common))
        )
    return lines
