"""One pass over a results folder's step events: the detectors' findings and the denominators of
the estimated rates (attempts per step, watched documents), with what matching needs (journey
starts, the platform ids of applicants)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from checks.defects import DEFAULT_SETTINGS, DETECTORS, Detection, DetectorSettings, Findings
from checks.defects.detection import evidence_of
from checks.defects.reading import procedure, watched_ids
from checks.results import event_files
from contracts.faults import DOCUMENTED
from core.errors import ConfigError
from scenarios.events import Event, JourneyEvent, StepEvent, decode
from scenarios.journeys import watch_kind


@dataclass
class Observed:
    """What one pass over the step events gives the score."""

    findings: Findings
    attempts: Counter[str] = field(default_factory=Counter)  # step → attempts (any outcome)
    applicants: dict[str, set[int]] = field(default_factory=dict)  # step → the applicants who attempted it
    watched_documents: int = 0  # acknowledged documents whose dossier was then watched at the prefecture
    starts: dict[str, float] = field(default_factory=dict)  # journey id → first step, for journeys with detections
    platform_ids: dict[int, str] = field(default_factory=dict)  # population index → platform applicant id
    steps: int = 0
    # Per documented defect, the attempts that would have shown a firing on what they acted on or
    # watched (the declaration's ``observers``): what tells an observable firing from one nobody saw.
    covering: dict[str, list[Detection]] = field(default_factory=dict)


def _events(results: Path) -> Iterator[tuple[Path, Event]]:
    """Every complete event of a results folder; a torn last line is skipped, a line that is not
    an event of this format is one ``ConfigError``."""
    for path in event_files(results):
        with path.open("rb") as lines:
            for number, line in enumerate(lines, 1):
                if not line.endswith(b"\n"):
                    continue
                try:
                    yield path, decode(line)
                except msgspec.ValidationError as exc:
                    raise ConfigError(f"{path}:{number}", f"older or unknown format: {exc}") from None
                except msgspec.DecodeError:
                    continue


_covers: dict[str, list[str]] = {}  # step → the documented defects its attempts may show


def observe(results: Path, settings: DetectorSettings = DEFAULT_SETTINGS) -> Observed:
    """Run the detectors over every step event and count the eligible events."""
    if not results.is_dir():
        raise ConfigError(str(results), "no such results folder")
    if not event_files(results):
        raise ConfigError(str(results / "events"), "no event files (events/*.jsonl): was the campaign run?")
    seen = Observed(Findings(settings=settings))
    uploads = DETECTORS["document_lost"].denominator
    open_starts: dict[str, float] = {}
    pending_documents: Counter[str] = Counter()
    for _path, event in _events(results):
        if isinstance(event, JourneyEvent):
            open_starts.pop(event.journey_id, None)
            continue
        if not isinstance(event, StepEvent):
            continue
        seen.steps += 1
        step, journey = event.step, event.journey_id
        seen.attempts[step] += 1
        if event.applicant is not None:
            seen.applicants.setdefault(step, set()).add(event.applicant)
        open_starts[journey] = min(open_starts.get(journey, event.time), event.time)
        evidence = event.evidence
        if event.applicant is not None and evidence.get("applicant_id"):
            seen.platform_ids[event.applicant] = evidence["applicant_id"]
        if event.outcome == "ok" and evidence.get("document") and step in uploads:
            pending_documents[journey] += 1
        elif watch_kind(step) == "seam":
            # Documents of a dossier the prefecture never got could not be lost there. (Only a watch
            # that did not end ``ok``: before 2026-12-03 an ``ok`` watch kept the ``waiting_for`` of
            # its first looks, when the dossier had not crossed yet.)
            watched = pending_documents.pop(journey, 0)
            never_got = event.outcome != "ok" and evidence.get("waiting_for") == "dossier"
            seen.watched_documents += 0 if never_got else watched
        covers = _covers.get(step)
        if covers is None:
            covers = _covers[step] = [d for d in DOCUMENTED if d in DETECTORS and step in DETECTORS[d].observers]
        if covers and event.outcome != "error":  # an attempt that failed to answer looked at nothing
            looked = Detection("", "", "", evidence_of(event), (*watched_ids(event), procedure(event)))
            for defect in covers:
                seen.covering.setdefault(defect, []).append(looked)
            seen.starts[journey] = open_starts[journey]
        if seen.findings.add(event):
            seen.starts[journey] = open_starts[journey]
    if not seen.steps:
        raise ConfigError(str(results / "events"), "no step events: was the campaign run?")
    return seen


# A journey's choose_procedure reads the whole list and checks every procedure in it, whichever it came
# for (``scenarios.journeys.applicant.choose``): the platform draws a fault on a procedure at every
# listing, so each listing is eligible for every procedure, not only for its own journey's.
LISTS_EVERY_PROCEDURE = ".choose_procedure"


def eligible(
    defect: str, seen: Observed, *, sticky: bool = False, procedures: frozenset[str] | None = None
) -> int | None:
    """The denominator of the estimated rate: the events where the defect could have fired.

    Attempts of the detector's denominator steps; for ``document_lost``, documents acknowledged and
    then watched at the prefecture (one upload step may carry several watched documents' fate).
    ``procedures``: the procedures the campaign's fault is limited to (its parameters): only their
    steps count (and every listing: ``LISTS_EVERY_PROCEDURE``); without it, for
    ``procedure_not_selectable``, only the steps of procedures seen missing, and every listing.
    ``sticky``: the fault holds for a share of applicants (``scope.share``), so the rate is a share
    of applicants: the applicants who attempted those steps.
    """
    registered = DETECTORS.get(defect)
    if registered is None:
        return None
    if registered.unit == "documents" and not sticky:
        return seen.watched_documents
    steps = [s for s in seen.attempts if s in registered.denominator]
    if procedures is not None:
        steps = [s for s in steps if s.split(".", 1)[0] in procedures or s.endswith(LISTS_EVERY_PROCEDURE)]
    elif registered.unit == "procedures":
        hit = {o for incident in seen.findings.of(defect) for d in incident.detections for o in d.objects}
        steps = [s for s in steps if s.split(".", 1)[0] in hit or s.endswith(LISTS_EVERY_PROCEDURE)] if hit else steps
    if sticky:
        return len(set().union(*(seen.applicants.get(s, set()) for s in steps)))
    return sum(seen.attempts[s] for s in steps)
