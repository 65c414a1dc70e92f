"""Matching ledger firings to incidents, one to one, under each defect's declared rule.

How a firing is matched to an incident depends on what the ledger names (each declaration's
``match``, whose explanation is copied into ``score.json``): by object id when the harness sees
that id (dossier, document, request, card), else by the platform's applicant id and time (the
firing happened during the failed attempt, or during the journey for an e-mail). Matching is one
to one (a maximum bipartite matching, so overlapping windows cannot make one incident explain two
firings).
"""

from __future__ import annotations

import bisect
import fnmatch
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from checks.defects import DEFAULT_RULE, DETECTORS, Detection, Evidence, Incident, Rule
from checks.score.ledger import Firing

# Per defect id, its declared rule (derived: a new declaration brings its own).
RULES: dict[str, Rule] = {name: declared.match for name, declared in DETECTORS.items()}


def rule_of(fault: str) -> Rule:
    """The rule of a fault id; the default one for a fault no declaration names."""
    return RULES.get(fault, DEFAULT_RULE)


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
