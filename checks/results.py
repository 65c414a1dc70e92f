"""Reading a campaign's step events and summarising them per step and per journey.

Events are JSON Lines files in ``events/`` (one per load process); a file still being written may
end with a partial line, which readers skip until it is complete. The per-step summary is what
the live progress shows and what ``summary.json`` starts from.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from scenarios.events import JourneyOutcome, Outcome

OUTCOMES = [outcome.value for outcome in Outcome]


def event_files(results: Path) -> list[Path]:
    return sorted((results / "events").glob("*.jsonl"))


def read_events(results: Path) -> Iterator[dict[str, Any]]:
    """Every complete event of a results folder (a torn last line is skipped)."""
    for path in event_files(results):
        with path.open("rb") as lines:
            for line in lines:
                if line.endswith(b"\n"):
                    try:
                        yield json.loads(line)
                    except ValueError:
                        continue


class EventTail:
    """Reads what was appended to the event files since the last call (for live progress)."""

    def __init__(self, results: Path) -> None:
        self.results = results
        self._offsets: dict[Path, int] = {}

    def new_events(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for path in event_files(self.results):
            offset = self._offsets.get(path, 0)
            with path.open("rb") as stream:
                stream.seek(offset)
                chunk = stream.read()
            complete = chunk.rfind(b"\n") + 1
            self._offsets[path] = offset + complete
            for line in chunk[:complete].splitlines():
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
        return found


class StepSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attempted: int | None = None  # attempts started (summary.json); equals total once the run is over
    unfinished: int = 0  # attempts a killed process left open, closed as error
    withdrawn: int = 0  # attempts that turned out not to apply, or that the run's end stopped
    total: int
    outcomes: dict[str, int]
    failure_rate: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


class JourneySummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total: int
    outcomes: dict[str, int]
    failed_at: dict[str, int]  # the funnel: where journeys first failed


@dataclass
class Tally:
    """Counts and durations per step, fed event by event (live) or from files (at the end)."""

    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    durations: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    journeys: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failed_at: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    first_time: float | None = None
    last_time: float | None = None
    channels: dict[str, Tally] = field(default_factory=dict)  # beside the API: browser steps alone

    def add(self, event: dict[str, Any]) -> None:
        time = float(event.get("time", 0.0))
        self.first_time = time if self.first_time is None else min(self.first_time, time)
        self.last_time = time if self.last_time is None else max(self.last_time, time)
        channel = str(event.get("channel", "api"))
        if channel != "api" and event.get("kind") == "step":
            self.channels.setdefault(channel, Tally()).add({**event, "channel": "api"})
        if event.get("kind") == "step":
            step = str(event["step"])
            self.outcomes[step][str(event["outcome"])] += 1
            self.durations[step].append(float(event["duration_ms"]))
        elif event.get("kind") == "journey":
            journey = str(event["journey"])
            self.journeys[journey][str(event["outcome"])] += 1
            if event.get("failed_step"):
                self.failed_at[journey][str(event["failed_step"])] += 1

    def extend(self, events: Iterable[dict[str, Any]]) -> Tally:
        for event in events:
            self.add(event)
        return self

    def steps(self) -> dict[str, StepSummary]:
        return {step: self.step(step) for step in sorted(self.outcomes)}

    def step(self, step: str) -> StepSummary:
        counts = self.outcomes[step]
        total = sum(counts.values())
        values = np.asarray(self.durations[step], dtype=float)
        p50, p95, p99 = (float(v) for v in np.percentile(values, [50, 95, 99])) if values.size else (0.0, 0.0, 0.0)
        return StepSummary(
            total=total,
            outcomes={outcome: counts.get(outcome, 0) for outcome in OUTCOMES},
            failure_rate=(total - counts.get(Outcome.OK.value, 0)) / total if total else 0.0,
            p50_ms=round(p50, 3),
            p95_ms=round(p95, 3),
            p99_ms=round(p99, 3),
            max_ms=round(float(values.max()), 3) if values.size else 0.0,
        )

    def journey_summaries(self) -> dict[str, JourneySummary]:
        return {
            journey: JourneySummary(
                total=sum(counts.values()),
                outcomes={o.value: counts.get(o.value, 0) for o in JourneyOutcome},
                failed_at=dict(self.failed_at[journey].most_common()),
            )
            for journey, counts in sorted(self.journeys.items())
        }


def tally(results: Path) -> Tally:
    return Tally().extend(read_events(results))
