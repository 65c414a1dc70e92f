"""What a detector sees and returns: the settings of its thresholds, one event's evidence, a detection.

A detector's body returns a ``Symptom`` (why, and the ids the ledger would name); the declaration
turns it into a ``Detection`` with the defect's id, title and the event's ``Evidence``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scenarios.events import StepEvent


@dataclass(frozen=True)
class DetectorSettings:
    """Thresholds of the detectors that judge durations, in seconds.

    On the reference platform an uncontended request answers in tens of milliseconds and a
    change crosses the seam or an e-mail reaches the mailbox in well under a second (p99 about
    0.4 s in the shipped campaigns), so these are an order of magnitude above normal.
    """

    latency_s: float = 5.0
    email_delay_s: float = 10.0
    sync_delay_s: float = 5.0

    @property
    def shortest_s(self) -> float:
        return min(self.latency_s, self.email_delay_s, self.sync_delay_s)


DEFAULT_SETTINGS = DetectorSettings()


@dataclass(frozen=True)
class Evidence:
    """What the harness saw: who, where, when, which ids."""

    step: str
    time: float  # when the attempt started (epoch seconds)
    duration_s: float
    journey_id: str
    attempt: int
    channel: str
    applicant: int | None  # the population's index
    applicant_id: str | None  # the platform's id (recorded on failures once logged in)
    dossier: str | None
    document: str | None
    request: str | None
    card: str | None
    message: str
    status: int | None
    weakness: str | None = None  # what a security probe found (its evidence names it)

    @property
    def ended(self) -> float:
        """When the harness knew: the end of the attempt (a watch's deadline for ``lost``)."""
        return self.time + self.duration_s


@dataclass(frozen=True)
class Detection:
    """One event recognised as a symptom of one defect."""

    defect: str
    title: str
    why: str  # this symptom, in one sentence
    evidence: Evidence
    objects: tuple[str, ...] = ()  # ids the ledger would name (dossier, document, request, card, procedure)

    def sample(self) -> dict[str, Any]:
        """JSON-ready, for ``summary.json`` and reports. Beside the English ``why``, the fields it was
        made of (ids, status, duration, weakness), from which the report words it in its language."""
        e = self.evidence
        ids = {
            "dossier": e.dossier,
            "document": e.document,
            "request": e.request,
            "card": e.card,
            "weakness": e.weakness,
        }
        return {
            "title": self.title,
            "why": self.why,
            "step": e.step,
            "status": e.status,
            "duration_s": round(e.duration_s, 3),
            "applicant": e.applicant,
            "applicant_id": e.applicant_id,
            "time": round(e.time, 6),
            "message": e.message,
            "objects": list(self.objects),
            "evidence": {key: value for key, value in ids.items() if value},
        }


@dataclass(frozen=True)
class Symptom:
    """What a detector's body returns; the declaration adds the defect's id, title and evidence."""

    why: str
    objects: tuple[str, ...] = ()


def text(value: object) -> str | None:
    """An evidence value as text, None when absent or empty."""
    return str(value) if value not in (None, "") else None


def evidence_of(event: StepEvent) -> Evidence:
    ids = event.evidence
    return Evidence(
        step=event.step,
        time=event.time,
        duration_s=event.seconds,
        journey_id=event.journey_id,
        attempt=event.attempt,
        channel=event.channel,
        applicant=event.applicant,
        applicant_id=text(ids.get("applicant_id")),
        dossier=text(ids.get("dossier")),
        document=text(ids.get("document")),
        request=text(ids.get("request")),
        card=text(ids.get("card")),
        message=event.message,
        status=event.status,
        weakness=text(ids.get("weakness")),
    )
