"""The score of one results folder, per defect: injected, detected, matched, recall, false
detections, estimated against configured rate, time to first detection; written as ``score.json``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from checks.defects import DEFAULT_SETTINGS, DETECTORS, Detection, DetectorSettings
from checks.score.ledger import Firing, read_full_ledger
from checks.score.matching import Context, Index, match, rule_of
from checks.score.observed import Observed, eligible, observe
from checks.score.rates import Configured, configured_rates
from checks.shift_stats import wilson
from contracts.faults import DOCUMENTED, SECURITY
from scenarios.journeys.runner import JourneySettings
from scenarios.manifest import read_manifest

SCORE_FILE = "score.json"
SLACK_S = 2.0  # clock and scheduling slack around a time window (same host: milliseconds)


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
    # The estimate's 95 % Wilson interval (hits of eligible events): whether the configured rate is
    # within it says more than a relative error does on a few dozen firings.
    estimated_rate_ci: tuple[float, float] | None
    injected_rate: float | None
    injected_rate_note: str | None
    # The rate the platform really injected at: its firings over the eligible events it drew for
    # (``ledger.json``'s draws). The configured rate is a probability; with N draws the platform's
    # own rate strays from it by about sqrt(rate (1 - rate) / N), which no estimate can know. None
    # for a sticky fault (its rate is a share of applicants) or where draws were not kept.
    realized_rate: float | None
    time_to_first_detection_s: float | None
    after_load: int  # firings after the load had ended, which no applicant could see (not in injected)
    # Of the injected firings: those an attempt of the harness acted on or watched (recall is on
    # these), those no attempt could have seen by design (with the reason), and those on an action
    # the harness took without watching it (the harness's blind spot: never excused).
    observable: int
    recall_observable: float | None
    unobservable: dict[str, int]
    unwatched: int
    confused_with: dict[str, int]  # false detections a firing of another fault explains
    matched_by: str
    missed: list[dict[str, Any]]  # a few firings no incident explains
    unwatched_sample: list[dict[str, Any]]  # a few firings no attempt of the harness looked at
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
    firings, draws = read_full_ledger(results)
    manifest = read_manifest(results)
    ended = manifest.load_ended.timestamp() if manifest.load_ended else None
    tail = longest_watch_s(results) + slack
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
    fired = Counter(f.fault for f in firings)
    for defect in (*DOCUMENTED, *security, *generic):
        scored = _score_one(defect, seen, indexes, ctx, rates, late[defect], ended - tail if ended else None)
        configured = rates.get(defect)
        if draws.get(defect) and configured is not None and configured.rate is not None and not configured.sticky:
            scored = replace(scored, realized_rate=round(fired[defect] / draws[defect], 4))
        defects[defect] = scored
    return Score(results, manifest.campaign or results.name, defects)


def _distinct(fault: str, firings: list[Firing]) -> list[Firing]:
    rule = rule_of(fault)
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
    tail_from: float | None,
) -> DefectScore:
    rule = rule_of(defect)
    index = indexes.get(defect, Index([]))
    incidents = seen.findings.of(defect)
    held = match(incidents, index, rule, ctx)
    matched_firings = {f.index for f in held.values()}
    sighted = _sighted(defect, index, seen, ctx) | matched_firings
    unobservable: Counter[str] = Counter()
    unwatched: list[Firing] = []
    for firing in index.firings:
        if firing.index in sighted:
            continue
        if tail_from is not None and firing.time >= tail_from:
            unobservable["fired in the load's last watch deadline: no watch could end before the load stopped"] += 1
        else:
            unwatched.append(firing)
    observable = len(index.firings) - sum(unobservable.values()) - len(unwatched)
    false = [incidents[i] for i in range(len(incidents)) if i not in held]
    confused: Counter[str] = Counter()
    for incident in false:
        for other, other_index in indexes.items():
            if other != defect and any(_explains(other, other_index, d, ctx) for d in incident.detections):
                confused[other] += 1
    injected = len(index.firings)
    first_firing = index.times[0] if index.times else None
    first_detection = min((incidents[i].first_seen for i in held), default=None)
    configured = rates.get(defect, Configured(None, "not configured"))
    count = eligible(defect, seen, sticky=configured.sticky, procedures=configured.procedures)
    # A sticky fault hits a share of applicants: its estimate is the applicants seen hit.
    hits = len({i.first.evidence.applicant for i in incidents}) if configured.sticky else len(incidents)
    registered = DETECTORS.get(defect)
    return DefectScore(
        defect=defect,
        title=registered.title if registered else defect,
        injected=injected,
        detected=len(incidents),
        symptoms=seen.findings.counts.get(defect, 0),
        matched=len(held),
        recall=round(len(held) / injected, 4) if injected else None,
        observable=observable,
        recall_observable=round(len(held) / observable, 4) if observable else None,
        unobservable=dict(unobservable),
        unwatched=len(unwatched),
        false_detections=len(false),
        eligible=count,
        estimated_rate=round(hits / count, 4) if count else None,
        estimated_rate_ci=_rounded(wilson(min(hits, count), count)) if count else None,
        injected_rate=configured.rate,
        injected_rate_note=configured.note,
        realized_rate=None,
        time_to_first_detection_s=(
            round(first_detection - first_firing, 3)
            if first_detection is not None and first_firing is not None
            else None
        ),
        after_load=after_load,
        confused_with=dict(confused.most_common()),
        matched_by=rule.how,
        missed=[_firing_json(f) for f in index.firings if f.index not in matched_firings][:5],
        unwatched_sample=[_firing_json(f) for f in unwatched[:5]],
        false=[incident.first.sample() for incident in false[:5]],
    )


def _rounded(interval: tuple[float, float]) -> tuple[float, float]:
    return round(interval[0], 5), round(interval[1], 5)


def _sighted(defect: str, index: Index, seen: Observed, ctx: Context) -> set[int]:
    """The firings an attempt of the harness would have shown (by the defect's rule); every firing
    of a defect without a declaration of what observes it counts as sighted."""
    if defect not in seen.covering and defect not in DOCUMENTED:
        return {f.index for f in index.firings}
    rule = rule_of(defect)
    return {f.index for looked in seen.covering.get(defect, []) for f in index.candidates(rule, looked, ctx)}


def longest_watch_s(results: Path) -> float:
    """The longest deadline a watch of the campaign had (its journey settings), in seconds."""
    try:
        campaign = yaml.safe_load((results / "campaign.yaml").read_text(encoding="utf-8")) or {}
        settings = JourneySettings.model_validate(campaign.get("journey_settings") or {})
    except (OSError, yaml.YAMLError, ValueError, AttributeError):
        settings = JourneySettings()
    return max(settings.default_deadline, settings.email_deadline, *settings.deadlines.values())


def _explains(fault: str, index: Index, found: Detection, ctx: Context) -> bool:
    """Whether a firing of another fault explains a false detection: it fits that fault's rule and
    names one of the detection's objects or the same applicant (a hint, so it must be specific)."""
    who = ctx.platform_id(found.evidence)
    return any(
        (f.object is not None and f.object in found.objects) or (who is not None and f.applicant == who)
        for f in index.candidates(rule_of(fault), found, ctx)
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
