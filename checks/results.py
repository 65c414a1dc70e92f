"""Reading a campaign's step events (typed, ``scenarios.events``) and summarising them per step
and per journey.

Events are JSON Lines files in ``events/`` (one per load process); a file still being written may
end with a partial line, which readers skip until it is complete. The per-step summary is what
the live progress shows and what ``summary.json`` starts from.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from ddsketch import DDSketch

from checks.summary import JourneyFigures, StepFigures
from scenarios.events import Event, JourneyEvent, JourneyOutcome, Outcome, StepEvent, decode

OUTCOMES = [outcome.value for outcome in Outcome]


def event_files(results: Path) -> list[Path]:
    return sorted((results / "events").glob("*.jsonl"))


def read_events(results: Path) -> Iterator[Event]:
    """Every complete event of a results folder (a torn last line, or one that is not an event, is
    skipped). One Python object per event: for live progress and small folders; judgement reads
    the files through DuckDB (``checks.store``)."""
    for path in event_files(results):
        with path.open("rb") as lines:
            for line in lines:
                if line.endswith(b"\n") and (event := _decoded(line)) is not None:
                    yield event


class EventTail:
    """Reads what was appended to the event files since the last call (for live progress)."""

    def __init__(self, results: Path) -> None:
        self.results = results
        self._offsets: dict[Path, int] = {}

    def new_events(self) -> list[Event]:
        found: list[Event] = []
        for path in event_files(self.results):
            offset = self._offsets.get(path, 0)
            with path.open("rb") as stream:
                stream.seek(offset)
                chunk = stream.read()
            complete = chunk.rfind(b"\n") + 1
            self._offsets[path] = offset + complete
            found.extend(event for line in chunk[:complete].splitlines() if (event := _decoded(line)) is not None)
        return found


def _decoded(line: bytes) -> Event | None:
    try:
        return decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


SKETCH_ACCURACY = 0.01  # relative error of the live percentiles


@dataclass
class Tally:
    """Counts and durations per step, fed event by event (the live progress).

    Durations go into a DDSketch per step (percentiles within 1 % relative error, in memory that
    grows with the log of the range of durations, not with their number): a soak's live figures
    stay flat in memory however long it runs. The final figures are exact (``checks.evaluate``).
    """

    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    durations: dict[str, DDSketch] = field(default_factory=lambda: defaultdict(lambda: DDSketch(SKETCH_ACCURACY)))
    longest: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    journeys: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failed_at: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    first_time: float | None = None
    last_time: float | None = None
    channels: dict[str, Tally] = field(default_factory=dict)  # beside the API: browser steps alone

    def add(self, event: Event) -> None:
        time = event.time
        self.first_time = time if self.first_time is None else min(self.first_time, time)
        self.last_time = time if self.last_time is None else max(self.last_time, time)
        if isinstance(event, StepEvent):
            if event.channel != "api":
                self.channels.setdefault(event.channel, Tally()).add(msgspec.structs.replace(event, channel="api"))
            self.outcomes[event.step][event.outcome.value] += 1
            self.durations[event.step].add(max(event.duration_ms, 0.0))
            self.longest[event.step] = max(self.longest[event.step], event.duration_ms)
        elif isinstance(event, JourneyEvent):
            self.journeys[event.journey][event.outcome.value] += 1
            if event.failed_step:
                self.failed_at[event.journey][event.failed_step] += 1

    def extend(self, events: Iterable[Event]) -> Tally:
        for event in events:
            self.add(event)
        return self

    def steps(self) -> dict[str, StepFigures]:
        return {step: self.step(step) for step in sorted(self.outcomes)}

    def step(self, step: str) -> StepFigures:
        counts = self.outcomes[step]
        total = sum(counts.values())
        sketch = self.durations[step]
        seen = sketch.count > 0
        p50, p95, p99 = (float(sketch.get_quantile_value(q) or 0.0) if seen else 0.0 for q in (0.5, 0.95, 0.99))
        return StepFigures(
            total=total,
            outcomes={outcome: counts.get(outcome, 0) for outcome in OUTCOMES},
            failure_rate=(total - counts.get(Outcome.OK.value, 0)) / total if total else 0.0,
            p50_ms=round(p50, 3),
            p95_ms=round(p95, 3),
            p99_ms=round(p99, 3),
            max_ms=round(self.longest[step], 3),
        )

    def journey_summaries(self) -> dict[str, JourneyFigures]:
        return {
            journey: JourneyFigures(
                total=sum(counts.values()),
                outcomes={o.value: counts.get(o.value, 0) for o in JourneyOutcome},
                failed_at=dict(self.failed_at[journey].most_common()),
            )
            for journey, counts in sorted(self.journeys.items())
        }


def tally(results: Path) -> Tally:
    return Tally().extend(read_events(results))
