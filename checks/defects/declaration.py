"""The defect declaration: everything the harness knows about one defect, in one place.

A defect is declared once, with ``@defect(...)`` on its detector's body (the function's name is the
defect id, the fault catalogue's id): the detector and its title, whether a detection fails the CI
gate, how a ledger firing is matched to it (``checks.score``), its denominator, grouping and unit,
its wording in French and English (the report), its SLO hook (``slos/anef.yaml``) and, for the
documented defects, the detection drill's plan. The gating set, the scoring rules, the report's
wording, the generated SLOs and the drill's plans are all derived from ``DETECTORS``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from checks.defects.detection import DEFAULT_SETTINGS, Detection, DetectorSettings, Symptom, evidence_of
from checks.defects.rule import Rule
from contracts.faults import CATALOGUE
from core.errors import ConfigError
from core.registry import Registry
from scenarios.events import StepEvent
from scenarios.journeys import watch_kind

# How the symptoms of one defect group into platform incidents:
#   object    one incident per id the ledger names (a document lost twice is one loss)
#   applicant one per applicant (the card never marked handed over, then every refused renewal)
#   journey   one per journey (a dropped session answers 401 to every retry that follows)
#   attempt   one per step attempt (each attempt is a new draw of the fault)
Grouping = Literal["object", "applicant", "journey", "attempt"]
Unit = Literal["attempts", "documents", "procedures"]


@dataclass(frozen=True)
class Words:
    """One text in both languages of the report (French first: the ministry reads it)."""

    fr: str
    en: str


@dataclass(frozen=True)
class Steps:
    """Steps by name: globs (a glob starting with "!" excludes) and, optionally, what they watch
    as the journeys declare it ("acts": steps that are no watch; "seam" or "mail": those watches)."""

    globs: tuple[str, ...] = ("*",)
    watching: Literal["any", "acts", "seam", "mail"] = "any"

    def __contains__(self, step: object) -> bool:
        if not isinstance(step, str):
            return False
        included = any(fnmatch.fnmatchcase(step, p) for p in self.globs if not p.startswith("!"))
        if not included or any(fnmatch.fnmatchcase(step, p[1:]) for p in self.globs if p.startswith("!")):
            return False
        if self.watching == "any":
            return True
        kind = watch_kind(step)
        return kind is None if self.watching == "acts" else kind == self.watching


@dataclass(frozen=True)
class Objective:
    """An SLO of a defect's own in ``slos/anef.yaml`` (its target is our assumption)."""

    name: str
    display_name: str
    description: str
    sli: str
    steps: tuple[str, ...]
    objective: str
    target: float
    comment: str
    place: int  # its position among the defect objectives of the file, so the shipped file does not move
    within_ms: int | None = None  # good: ok within this many milliseconds (else: ok)
    bad: tuple[str, ...] = ()  # count these outcomes as bad, instead of ok as good


@dataclass(frozen=True)
class SloHook:
    """How the shipped SLOs watch a defect: objectives of its own, or the availability SLOs of the
    steps where it shows (a wrong refusal, a probe that finds its weakness)."""

    objectives: tuple[Objective, ...] = ()
    counted_by: Steps | None = None


@dataclass(frozen=True)
class DrillPlan:
    """Where a documented defect lives, for the detection drill (``benchmarks/detection_power.py``):
    the journeys that reach it, its parameters, how long to run."""

    journeys: dict[str, int]
    seconds: float  # enough for ~120 firings at rate 0.1 on two cores (measured)
    params: dict[str, Any] | None = None


class DetectorFunction(Protocol):
    def __call__(self, event: StepEvent, settings: DetectorSettings = DEFAULT_SETTINGS, /) -> Detection | None: ...


Body = Callable[[StepEvent, DetectorSettings], Symptom | None]


@dataclass(frozen=True)
class Defect:
    """A declared defect: its detector and all that is derived from it."""

    id: str
    title: str  # the detection's title (summaries, JUnit, the score)
    description: str
    # Steps whose attempts are the events where the defect may fire: the denominator of the
    # estimated rate (``checks.score``).
    denominator: Steps
    grouping: Grouping
    detect: DetectorFunction
    unit: Unit
    gating: bool  # one detection fails the CI gate (documented defects, security weaknesses)
    match: Rule
    report_title: Words
    lives: Words  # what the applicant lives, as the report says it
    slo: SloHook | None
    drill: DrillPlan | None
    # Steps whose attempts would show a firing on what they acted on or watched (by the match rule):
    # a firing no such attempt covers was not observable (``checks.score``). None: the denominator.
    watched_by: Steps | None = None

    @property
    def observers(self) -> Steps:
        return self.watched_by or self.denominator


DETECTORS: Registry[Defect] = Registry("defect")


def defect(
    *,
    title: str,
    description: str,
    denominator: Steps,
    gating: bool,
    match: Rule,
    report_title: Words,
    lives: Words,
    grouping: Grouping = "attempt",
    unit: Unit = "attempts",
    slo: SloHook | None = None,
    drill: DrillPlan | None = None,
    watched_by: Steps | None = None,
) -> Callable[[Body], DetectorFunction]:
    """Declare a defect on its detector's body; the body's name is the defect id."""

    def register(body: Body) -> DetectorFunction:
        name = body.__name__

        def detect(event: StepEvent, settings: DetectorSettings = DEFAULT_SETTINGS, /) -> Detection | None:
            symptom = body(event, settings)
            if symptom is None:
                return None
            return Detection(name, title, symptom.why, evidence_of(event), symptom.objects)

        detect.__name__ = detect.__qualname__ = name
        detect.__module__, detect.__doc__ = body.__module__, description
        declared = Defect(
            name,
            title,
            description,
            denominator,
            grouping,
            detect,
            unit,
            gating,
            match,
            report_title,
            lives,
            slo,
            drill,
            watched_by,
        )
        DETECTORS.add(name, declared)
        return detect

    return register


def get_detector(name: str) -> Defect:
    """A declared defect by id; an unknown name gets "did you mean"."""
    try:
        return DETECTORS[name]
    except KeyError:
        raise ConfigError("detectors", f"unknown defect {name!r}{DETECTORS.hint(name)}") from None


def gating_defects() -> frozenset[str]:
    """The defects one detection of which fails the gate: derived from the declarations."""
    return frozenset(name for name, declared in DETECTORS.items() if declared.gating)


def missing(declared: Defect | None) -> list[str]:
    """What a documented or security defect's declaration lacks (nothing when it is complete)."""
    if declared is None:
        return ["a declaration (detector)"]
    gaps = [] if declared.gating else ["gating"]
    if not declared.match.how:
        gaps.append("a match rule")
    for what, words in (("title", declared.report_title), ("explanation", declared.lives)):
        gaps += [f"the {what} in {code}" for code in ("fr", "en") if not getattr(words, code).strip()]
    if declared.slo is None or not (declared.slo.objectives or declared.slo.counted_by):
        gaps.append("an SLO hook")
    return gaps


def catalogue_gaps(declarations: Mapping[str, Defect] = DETECTORS) -> dict[str, list[str]]:
    """Per fault of the catalogue marked documented or security, what its declaration lacks (only
    the incomplete ones): forget one and the defect would silently stop failing the gate."""
    gaps = {}
    for kind in CATALOGUE.values():
        if kind.documented or kind.security:
            lacking = missing(declarations.get(kind.id))
            if kind.documented and (kind.id not in declarations or declarations[kind.id].drill is None):
                lacking.append("a drill plan")
            if lacking:
                gaps[kind.id] = lacking
    return gaps
