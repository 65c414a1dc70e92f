"""Findings: the defects detected in a campaign's events, as symptoms and as incidents.

One platform incident often shows several times (a retried refusal, a card never marked handed
over that later blocks the renewal): ``Findings`` counts *symptoms* (events) and *incidents*
(symptoms grouped per declaration: by object, by applicant, by journey or one per attempt).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from checks.defects.declaration import DETECTORS, Defect, Grouping
from checks.defects.detection import DEFAULT_SETTINGS, Detection, DetectorSettings
from scenarios.events import Event, StepEvent

# What detectors are shown of a results folder (a condition on ``checks.store``'s steps): every
# failed attempt and every attempt slow enough to matter for latency rules.
DETECTOR_PREFILTER = "outcome <> 'ok' OR duration_ms >= 1000"


@dataclass
class Incident:
    """The symptoms of one platform incident, as the detector's grouping sees it."""

    defect: str
    key: str
    detections: list[Detection] = field(default_factory=list)

    @property
    def first(self) -> Detection:
        return min(self.detections, key=lambda d: d.evidence.time)

    @property
    def first_seen(self) -> float:
        return min(d.evidence.ended for d in self.detections)


def incident_keys(found: Detection, grouping: Grouping) -> list[str]:
    """The incidents a detection belongs to (several when it names several objects)."""
    e = found.evidence
    # A journey may run a step several times (one upload per document): the start tells them apart.
    attempt = f"attempt:{e.journey_id}:{e.step}:{e.attempt}:{e.time:.6f}"
    if grouping == "object":
        return [f"object:{o}" for o in found.objects] or [attempt]
    if grouping == "applicant":
        who = e.applicant if e.applicant is not None else e.applicant_id
        return [f"applicant:{who}"] if who is not None else [f"journey:{e.journey_id}"]
    if grouping == "journey":
        return [f"journey:{e.journey_id}"]
    return [attempt]


@dataclass
class Findings:
    """Defects detected in a campaign's events.

    ``counts`` are symptoms (events recognised, as before incidents existed), ``incidents`` the
    platform incidents behind them; ``first_seen`` is when each defect was first observed (the end
    of the attempt that showed it); ``samples`` keep a few symptoms per defect.
    """

    settings: DetectorSettings = DEFAULT_SETTINGS
    max_samples: int = 5
    counts: Counter[str] = field(default_factory=Counter)
    incidents: Counter[str] = field(default_factory=Counter)
    first_seen: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    grouped: dict[str, dict[str, Incident]] = field(default_factory=dict)
    # The declarations, read once: every event goes through them (a tuple is quicker than the registry).
    declared: tuple[Defect, ...] = field(
        default_factory=lambda: tuple(DETECTORS.values()), init=False, repr=False, compare=False
    )

    def add(self, event: StepEvent | Event) -> list[Detection]:
        """Run every detector on one event; returns what it showed (nothing for an event that is
        not a step's outcome)."""
        if not isinstance(event, StepEvent):
            return []
        # Detectors of successful attempts all judge a duration: a quick success shows nothing.
        if event.outcome == "ok" and event.seconds < self.settings.shortest_s:
            return []
        found = []
        for declared in self.declared:
            detection = declared.detect(event, self.settings)
            if detection is None:
                continue
            found.append(detection)
            self._keep(declared.id, declared.grouping, detection)
        return found

    def _keep(self, name: str, grouping: Grouping, detection: Detection) -> None:
        self.counts[name] += 1
        seen = detection.evidence.ended
        self.first_seen[name] = min(self.first_seen.get(name, seen), seen)
        kept = self.samples.setdefault(name, [])
        if len(kept) < self.max_samples:
            kept.append(detection.sample())
        groups = self.grouped.setdefault(name, {})
        for key in incident_keys(detection, grouping):
            incident = groups.get(key)
            if incident is None:
                incident = groups[key] = Incident(name, key)
                self.incidents[name] += 1
            incident.detections.append(detection)

    def extend(self, events: Iterable[StepEvent | Event]) -> Findings:
        for event in events:
            self.add(event)
        return self

    def of(self, defect: str) -> list[Incident]:
        """The incidents of one defect, in the order they were first observed."""
        return sorted(self.grouped.get(defect, {}).values(), key=lambda i: i.first_seen)
