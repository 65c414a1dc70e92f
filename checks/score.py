"""Scoring the harness: what the detectors found, against what the platform's ledger says it injected.

This is the only place that reads ``ledger.json`` (DESIGN.md, principle 3: the ledger scores,
it never detects). Per defect id: ledger firings (injected), incidents detected, firings matched
to an incident, recall, incidents that no firing explains (false detections), the estimated rate
(incidents over eligible events, as the harness measures it) against the configured rate, and the
time from the first firing to the first matching detection.

How a firing is matched to an incident depends on what the ledger names (``RULES``, each with its
explanation, copied into ``score.json``): by object id when the harness sees that id (dossier,
document, request, card), else by the platform's applicant id and time (the firing happened
during the failed attempt, or during the journey for an e-mail). Matching is one to one (a
maximum bipartite matching, so overlapping windows cannot make one incident explain two firings).
"""

from __future__ import annotations

import bisect
import fnmatch
import json
import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from checks.defects import DEFAULT_SETTINGS, DETECTORS, Detection, DetectorSettings, Evidence, Findings, Incident
from checks.results import event_files
from contracts.fault_set import FaultSet, FaultSpec, load_profile
from contracts.faults import DOCUMENTED, SECURITY
from core.errors import ConfigError
from scenarios.events import Event, JourneyEvent, StepEvent, decode
from scenarios.journeys import watch_kind
from scenarios.manifest import ManifestFile, read_manifest

SCORE_FILE = "score.json"
SLACK_S = 2.0  # clock and scheduling slack around a time window (same host: milliseconds)
BURST_S = 10.0  # a probe's repeated samples (a few seconds) on one identifier are one firing


# --- the ledger ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Firing:
    """One ledger entry: a fault the platform injected."""

    index: int
    time: float  # epoch seconds
    fault: str
    applicant: str | None  # the platform's applicant id
    object: str | None
    route: str


def read_ledger(results: Path) -> list[Firing]:
    path = results / "ledger.json"
    if not path.is_file():
        raise ConfigError(str(path), "missing: no fault ledger was kept (interrupted run, or an older results folder)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(str(path), f"not readable JSON ({exc})") from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(str(path), 'older or unknown format: expected {"entries": [{time, fault, …}]}')
    firings = []
    for number, entry in enumerate(entries):
        try:
            firings.append(
                Firing(
                    index=number,
                    time=datetime.fromisoformat(str(entry["time"])).timestamp(),
                    fault=str(entry["fault"]),
                    applicant=str(entry["applicant"]) if entry.get("applicant") else None,
                    object=str(entry["object"]) if entry.get("object") is not None else None,
                    route=str(entry.get("route") or ""),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ConfigError(
                str(path), f"entries.{number}: expected time (ISO 8601), fault, applicant, object, route"
            ) from None
    return firings


# --- the events ------------------------------------------------------------------------------------


@dataclass
class Observed:
    """What one pass over the step events gives the score."""

    findings: Findings
    attempts: Counter[str] = field(default_factory=Counter)  # step → attempts (any outcome)
    watched_documents: int = 0  # acknowledged documents whose dossier was then watched at the prefecture
    starts: dict[str, float] = field(default_factory=dict)  # journey id → first step, for journeys with detections
    platform_ids: dict[int, str] = field(default_factory=dict)  # population index → platform applicant id
    steps: int = 0


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
        open_starts[journey] = min(open_starts.get(journey, event.time), event.time)
        evidence = event.evidence
        if event.applicant is not None and evidence.get("applicant_id"):
            seen.platform_ids[event.applicant] = evidence["applicant_id"]
        if event.outcome == "ok" and evidence.get("document") and _matches(step, uploads):
            pending_documents[journey] += 1
        elif watch_kind(step) == "seam":
            # Documents of a dossier the prefecture never got could not be lost there.
            watched = pending_documents.pop(journey, 0)
            seen.watched_documents += 0 if evidence.get("waiting_for") == "dossier" else watched
        if seen.findings.add(event):
            seen.starts[journey] = open_starts[journey]
    if not seen.steps:
        raise ConfigError(str(results / "events"), "no step events: was the campaign run?")
    return seen


def _matches(step: str, patterns: tuple[str, ...]) -> bool:
    """Globs on step names; a pattern starting with "!" excludes."""
    included = any(fnmatch.fnmatchcase(step, p) for p in patterns if not p.startswith("!"))
    return included and not any(fnmatch.fnmatchcase(step, p[1:]) for p in patterns if p.startswith("!"))


def eligible(defect: str, seen: Observed) -> int | None:
    """The denominator of the estimated rate: the events where the defect could have fired.

    Attempts of the detector's denominator steps; for ``document_lost``, documents acknowledged and
    then watched at the prefecture (one upload step may carry several watched documents' fate);
    for ``procedure_not_selectable``, only the steps of procedures seen missing (the harness cannot
    know which procedure a fault targets, and counting the others would dilute the rate).
    """
    registered = DETECTORS.get(defect)
    if registered is None:
        return None
    if registered.unit == "documents":
        return seen.watched_documents
    steps = [s for s in seen.attempts if _matches(s, registered.denominator)]
    if registered.unit == "procedures":
        hit = {o for incident in seen.findings.of(defect) for d in incident.detections for o in d.objects}
        steps = [s for s in steps if s.split(".", 1)[0] in hit] if hit else steps
    return sum(seen.attempts[s] for s in steps)


# --- matching rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """When a ledger firing explains a detection."""

    how: str
    objects: bool = False  # the firing's object is among the ids the detection names
    # Whose platform id the ledger names and how strictly it must agree with the detection's:
    #   session   the applicant whose session the request carried (edge faults): compared with the
    #             journey's own login, when it had logged in (before that, a request may carry another
    #             applicant's cookie left in the virtual user's cookie jar)
    #   person    the applicant the platform acted for (domain faults): compared with the journey's
    #             applicant's platform id, from its own events or from any other event of that applicant
    #   required  person, and it must be known on both sides
    applicant: Literal["ignore", "session", "person", "required"] = "ignore"
    window: Literal["none", "attempt", "journey", "before"] = "none"  # when the firing happened
    route: bool = False  # the firing's route is the one the detection's message names (if it names one)
    routes: tuple[str, ...] = ()  # the firing's route matches one of these globs
    otherwise: Rule | None = None
    unique_objects: bool = False  # firings on one object are one incident (a redelivery drawn again)
    # Firings on one object less than this many seconds after the previous one are one incident
    # (a probe that asks the same thing several times, e.g. timing samples, sees one weakness).
    burst_s: float | None = None


def _during(what: str, *, route: bool = True) -> Rule:
    """A fault drawn on one request: it fired during the attempt that showed it."""
    on_route = ", on the route its message names" if route else ""
    return Rule(
        "by the session's platform applicant id (when the journey had logged in) and time: the firing happened "
        f"during the {what}{on_route}",
        applicant="session",
        window="attempt",
        route=route,
    )


RULES: dict[str, Rule] = {
    "title_not_marked_delivered": Rule(
        "by card id (card_handover.visible names the card the ledger names); a renewal refused later has no "
        "card id: by platform applicant id, firing before the refusal",
        objects=True,
        unique_objects=True,
        otherwise=Rule("", applicant="required", window="before"),
    ),
    "phantom_pending_request": Rule(
        "by procedure (the ledger's object), platform applicant id and time: the firing happened during the "
        "refused create attempt",
        objects=True,
        applicant="person",
        window="attempt",
    ),
    "reset_email_lost": Rule(
        "by time (and platform applicant id when known: the reset journey is not logged in, so usually by "
        "time only): the firing happened during the journey, before its e-mail watch ended",
        applicant="person",
        window="journey",
    ),
    "agent_request_hidden": Rule("by request id", objects=True, unique_objects=True),
    "document_lost": Rule("by document id (the watch's waiting_for list)", objects=True, unique_objects=True),
    "procedure_not_forwarded": Rule("by dossier id", objects=True, unique_objects=True),
    "procedure_not_selectable": Rule(
        "by procedure (the ledger's object), platform applicant id and time: the firing happened during the "
        "choose_procedure or create attempt that showed it",
        objects=True,
        applicant="person",
        window="attempt",
    ),
    # The security faults, found by the security journey's probes (one probe attempt, one weakness).
    "idor_leak": Rule(
        "by dossier id (the ledger's object: the dossier read), the reader's platform applicant id and time: "
        "the firing happened during the security.idor attempt",
        objects=True,
        applicant="person",
        window="attempt",
    ),
    "reset_token_reusable": Rule(
        "by platform applicant id (the account whose link was used again) and time: the firing happened "
        "during the security.reset_reuse attempt",
        applicant="person",
        window="attempt",
    ),
    "user_enumeration": Rule(
        "by identifier (the ledger's object: the address asked about, with or without an account) and time: "
        f"the firing happened during the security.enumeration attempt; firings on one identifier less than "
        f"{BURST_S:g} s apart are one (the probe's repeated samples)",
        objects=True,
        window="attempt",
        burst_s=BURST_S,
    ),
    "upload_unchecked": Rule(
        "by dossier id (the ledger's object: the dossier uploaded to), platform applicant id and time: the "
        "firing happened during the security.upload_type attempt",
        objects=True,
        applicant="person",
        window="attempt",
    ),
    "http_error": _during("failed attempt"),
    "outage": _during("failed attempt"),
    "timeout": _during("failed attempt"),
    "connection_reset": _during("failed attempt"),
    "latency": _during("slow attempt", route=False),
    "session_drop": _during("first refused attempt (later 401s of the journey are the same incident)"),
    "email_delay": Rule(
        "by time (and platform applicant id when known) on the password-reset routes: the firing happened "
        "during the journey, before its e-mail arrived (e-mails no journey reads cannot be matched)",
        applicant="person",
        window="journey",
        routes=("*password-reset*", "*mot-de-passe*"),
    ),
    "sync_delay": Rule(
        "by object id among those the slow watch names (dossier, documents, request, card), firing before it ended",
        objects=True,
        window="before",
    ),
}
DEFAULT_RULE = _during("failed attempt", route=False)

_PATH = re.compile(r"/[A-Za-z0-9_\-./{}]*")


def _template(route: str) -> str:
    return re.sub(r"\{[^}]*\}", "*", route)


def route_named(route: str, message: str) -> bool:
    """Whether a ledger route (a template) is a route the message names; True if it names none."""
    named = [p for p in _PATH.findall(message) if len(p) > 1]
    if not named or not route:
        return True
    pattern = _template(route)
    return any(_template(p) == pattern or fnmatch.fnmatchcase(p, pattern) for p in named)


@dataclass
class Context:
    slack: float
    starts: Mapping[str, float]
    platform_ids: Mapping[int, str]

    def platform_id(self, e: Evidence) -> str | None:
        return e.applicant_id or (self.platform_ids.get(e.applicant) if e.applicant is not None else None)

    def applicant_agrees(self, rule: Rule, firing: Firing, e: Evidence) -> bool:
        if rule.applicant == "ignore":
            return True
        who = e.applicant_id if rule.applicant == "session" else self.platform_id(e)
        if rule.applicant == "required":
            return who is not None and who == firing.applicant
        return not who or not firing.applicant or who == firing.applicant

    def window(self, rule: Rule, e: Evidence) -> tuple[float, float]:
        if rule.window == "attempt":
            return e.time - self.slack, e.ended + self.slack
        if rule.window == "journey":
            return self.starts.get(e.journey_id, e.time) - self.slack, e.ended + self.slack
        if rule.window == "before":
            return -math.inf, e.ended + self.slack
        return -math.inf, math.inf


def compatible(rule: Rule, firing: Firing, found: Detection, ctx: Context) -> bool:
    """Whether the firing explains this detection under the rule (or its alternative)."""
    if _fits(rule, firing, found, ctx):
        return True
    return rule.otherwise is not None and compatible(rule.otherwise, firing, found, ctx)


def _fits(rule: Rule, firing: Firing, found: Detection, ctx: Context) -> bool:
    e = found.evidence
    if rule.objects and firing.object not in found.objects:
        return False
    if rule.routes and not any(fnmatch.fnmatchcase(firing.route, g) for g in rule.routes):
        return False
    if not ctx.applicant_agrees(rule, firing, e):
        return False
    low, high = ctx.window(rule, e)
    if not low <= firing.time <= high:
        return False
    return not rule.route or route_named(firing.route, e.message)


class Index:
    """The firings of one fault, found by object, by applicant and by time."""

    def __init__(self, firings: list[Firing]) -> None:
        self.firings = sorted(firings, key=lambda f: f.time)
        self.times = [f.time for f in self.firings]
        self.by_object: dict[str, list[Firing]] = {}
        self.by_applicant: dict[str, list[Firing]] = {}
        for firing in self.firings:
            if firing.object is not None:
                self.by_object.setdefault(firing.object, []).append(firing)
            if firing.applicant is not None:
                self.by_applicant.setdefault(firing.applicant, []).append(firing)

    def candidates(self, rule: Rule, found: Detection, ctx: Context) -> list[Firing]:
        """Firings that explain the detection, nearest in time first."""
        pool: list[Firing]
        if rule.window in ("attempt", "journey"):
            low, high = ctx.window(rule, found.evidence)
            pool = self.firings[bisect.bisect_left(self.times, low) : bisect.bisect_right(self.times, high)]
        elif rule.objects:
            pool = [f for o in found.objects for f in self.by_object.get(o, [])]
        elif rule.applicant == "required":
            who = ctx.platform_id(found.evidence)
            pool = self.by_applicant.get(who, []) if who else []
        else:
            pool = self.firings
        hits = [f for f in pool if _fits(rule, f, found, ctx)]
        if rule.otherwise is not None:
            hits += self.candidates(rule.otherwise, found, ctx)
        return sorted(set(hits), key=lambda f: abs(f.time - found.evidence.time))


def match(incidents: list[Incident], index: Index, rule: Rule, ctx: Context) -> dict[int, Firing]:
    """A maximum one-to-one matching of incidents (by position) to firings (Kuhn's augmenting paths)."""
    options: list[list[Firing]] = []
    for incident in incidents:
        found: dict[int, Firing] = {}
        for detection in incident.detections:
            for firing in index.candidates(rule, detection, ctx):
                found.setdefault(firing.index, firing)
        options.append(list(found.values()))
    owner: dict[int, int] = {}  # firing index → incident position
    held: dict[int, Firing] = {}  # incident position → firing
    for start in sorted(range(len(incidents)), key=lambda i: (len(options[i]), incidents[i].first_seen)):
        if options[start]:
            _augment(start, options, owner, held)
    return held


def _augment(start: int, options: list[list[Firing]], owner: dict[int, int], held: dict[int, Firing]) -> bool:
    """Find an alternating path from ``start`` to a free firing and flip it (iterative DFS)."""
    reached_from: dict[int, tuple[int, Firing]] = {}  # firing index → (incident that reached it, firing)
    stack = [(start, iter(options[start]))]
    while stack:
        incident, choices = stack[-1]
        for firing in choices:
            if firing.index in reached_from:
                continue
            reached_from[firing.index] = (incident, firing)
            other = owner.get(firing.index)
            if other is None:
                current: Firing | None = firing
                while current is not None:
                    by, _ = reached_from[current.index]
                    previous = held.get(by)
                    owner[current.index], held[by] = by, current
                    current = None if by == start else previous
                return True
            stack.append((other, iter(options[other])))
            break
        else:
            stack.pop()
    return False


# --- configured rates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Configured:
    rate: float | None
    note: str | None


def configured_rates(results: Path, manifest: ManifestFile) -> dict[str, Configured]:
    """Per fault id, the probability per eligible event the campaign configured, if it held all along."""
    try:
        campaign = yaml.safe_load((results / "campaign.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    faults = campaign.get("faults") if isinstance(campaign, dict) else None
    faults = faults if isinstance(faults, dict) else {}
    base = Path(manifest.source or results / "campaign.yaml").parent
    sets = [_fault_set(faults.get("profile", "none"), None, base)]
    applied = manifest.fault_changes
    for number, change in enumerate(faults.get("schedule") or []):
        if applied is not None and (number >= len(applied) or applied[number].error):
            continue  # not applied (the run ended first, or the admin API refused it)
        if isinstance(change, dict):
            sets.append(_fault_set(change.get("profile"), change.get("faults"), base))
    ids = {spec.id for fault_set in sets if fault_set is not None for spec in fault_set.faults}
    return {fault: _rate_of(fault, sets) for fault in ids}


def _fault_set(profile: object, inline: object, base: Path) -> FaultSet | None:
    try:
        if inline is not None:
            return FaultSet.model_validate({"faults": inline})
        if profile in (None, "none"):
            return FaultSet()
        path = Path(str(profile))
        return load_profile(path if path.is_absolute() or not (base / path).exists() else base / path)
    except (ConfigError, ValueError, OSError):
        return None


def _rate_of(fault: str, sets: list[FaultSet | None]) -> Configured:
    if any(s is None for s in sets):
        return Configured(None, "unknown: a profile of the campaign could not be read")
    specs = [next((spec for spec in s.faults if spec.id == fault), None) for s in sets if s is not None]
    effective = {_effective(spec) for spec in specs}
    if len(effective) > 1:
        return Configured(None, "scheduled")
    spec = specs[0]
    if spec is None:
        return Configured(None, "not configured")
    notes = []
    if spec.scope is not None and spec.scope.share is not None:
        notes.append(f"rate {spec.rate:g} × sticky share {spec.scope.share:g}")
    if spec.scope is not None and spec.scope.routes is not None:
        notes.append(f"routes {', '.join(spec.scope.routes)}")
    if spec.window is not None:
        notes.append("time window")
    return Configured(_effective(spec), "; ".join(notes) or None)


def _effective(spec: FaultSpec | None) -> float:
    if spec is None:
        return 0.0
    share = spec.scope.share if spec.scope is not None and spec.scope.share is not None else 1.0
    return spec.rate * share


# --- the score -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefectScore:
    defect: str
    title: str
    injected: int
    detected: int  # incidents
    symptoms: int
    matched: int
    recall: float | None
    false_detections: int
    eligible: int | None
    estimated_rate: float | None
    injected_rate: float | None
    injected_rate_note: str | None
    time_to_first_detection_s: float | None
    after_load: int  # firings after the load had ended, which no applicant could see (not in injected)
    confused_with: dict[str, int]  # false detections a firing of another fault explains
    matched_by: str
    missed: list[dict[str, Any]]  # a few firings no incident explains
    false: list[dict[str, Any]]  # a few incidents no firing explains

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "defect"}


@dataclass(frozen=True)
class Score:
    results: Path
    campaign: str
    defects: dict[str, DefectScore]

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "results": str(self.results),
            "defects": {name: d.to_json() for name, d in self.defects.items()},
        }


def score(results: Path, *, settings: DetectorSettings = DEFAULT_SETTINGS, slack: float = SLACK_S) -> Score:
    """Score one results folder."""
    seen = observe(results, settings)
    firings = read_ledger(results)
    manifest = read_manifest(results)
    ended = manifest.load_ended.timestamp() if manifest.load_ended else None
    counted = [f for f in firings if ended is None or f.time <= ended + slack]
    late = Counter(f.fault for f in firings if ended is not None and f.time > ended + slack)
    ctx = Context(slack, seen.starts, seen.platform_ids)
    by_fault: dict[str, list[Firing]] = {}
    for firing in counted:
        by_fault.setdefault(firing.fault, []).append(firing)
    indexes = {fault: Index(_distinct(fault, group)) for fault, group in by_fault.items()}
    rates = configured_rates(results, manifest)
    present = set(by_fault) | set(seen.findings.grouped) | set(late)
    security = [defect for defect in SECURITY if defect in present]
    generic = sorted(present - set(DOCUMENTED) - set(SECURITY))
    defects = {}
    for defect in (*DOCUMENTED, *security, *generic):
        defects[defect] = _score_one(defect, seen, indexes, ctx, rates, late[defect])
    return Score(results, manifest.campaign or results.name, defects)


def _distinct(fault: str, firings: list[Firing]) -> list[Firing]:
    rule = RULES.get(fault, DEFAULT_RULE)
    if rule.burst_s is not None:
        return _bursts(firings, rule.burst_s)
    if not rule.unique_objects:
        return firings
    first: dict[str, Firing] = {}
    for firing in sorted(firings, key=lambda f: f.time):
        first.setdefault(firing.object if firing.object is not None else f"#{firing.index}", firing)
    return list(first.values())


def _bursts(firings: list[Firing], gap_s: float) -> list[Firing]:
    """The first firing of each burst on one object (firings less than ``gap_s`` apart)."""
    kept: list[Firing] = []
    last: dict[str, float] = {}
    for firing in sorted(firings, key=lambda f: f.time):
        key = firing.object if firing.object is not None else f"#{firing.index}"
        if key not in last or firing.time - last[key] >= gap_s:
            kept.append(firing)
        last[key] = firing.time
    return kept


def _score_one(
    defect: str,
    seen: Observed,
    indexes: Mapping[str, Index],
    ctx: Context,
    rates: Mapping[str, Configured],
    after_load: int,
) -> DefectScore:
    rule = RULES.get(defect, DEFAULT_RULE)
    index = indexes.get(defect, Index([]))
    incidents = seen.findings.of(defect)
    held = match(incidents, index, rule, ctx)
    matched_firings = {f.index for f in held.values()}
    false = [incidents[i] for i in range(len(incidents)) if i not in held]
    confused: Counter[str] = Counter()
    for incident in false:
        for other, other_index in indexes.items():
            if other != defect and any(_explains(other, other_index, d, ctx) for d in incident.detections):
                confused[other] += 1
    injected = len(index.firings)
    first_firing = index.times[0] if index.times else None
    first_detection = min((incidents[i].first_seen for i in held), default=None)
    count = eligible(defect, seen)
    configured = rates.get(defect, Configured(None, "not configured"))
    registered = DETECTORS.get(defect)
    return DefectScore(
        defect=defect,
        title=registered.title if registered else defect,
        injected=injected,
        detected=len(incidents),
        symptoms=seen.findings.counts.get(defect, 0),
        matched=len(held),
        recall=round(len(held) / injected, 4) if injected else None,
        false_detections=len(false),
        eligible=count,
        estimated_rate=round(len(incidents) / count, 4) if count else None,
        injected_rate=configured.rate,
        injected_rate_note=configured.note,
        time_to_first_detection_s=(
            round(first_detection - first_firing, 3)
            if first_detection is not None and first_firing is not None
            else None
        ),
        after_load=after_load,
        confused_with=dict(confused.most_common()),
        matched_by=rule.how,
        missed=[_firing_json(f) for f in index.firings if f.index not in matched_firings][:5],
        false=[incident.first.sample() for incident in false[:5]],
    )


def _explains(fault: str, index: Index, found: Detection, ctx: Context) -> bool:
    """Whether a firing of another fault explains a false detection: it fits that fault's rule and
    names one of the detection's objects or the same applicant (a hint, so it must be specific)."""
    who = ctx.platform_id(found.evidence)
    return any(
        (f.object is not None and f.object in found.objects) or (who is not None and f.applicant == who)
        for f in index.candidates(RULES.get(fault, DEFAULT_RULE), found, ctx)
    )


def _firing_json(firing: Firing) -> dict[str, Any]:
    return {"time": firing.time, "applicant": firing.applicant, "object": firing.object, "route": firing.route}


def write_score(results: Path, computed: Score | None = None) -> Path:
    """Score the folder (unless given its score) and write ``score.json`` into it."""
    computed = computed or score(results)
    path = results / SCORE_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(computed.to_json(), indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return path
