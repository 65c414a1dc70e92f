"""Which step events an SLI counts: a selector over steps, outcomes, duration and channel, and the
SQL (DuckDB) that counts them in the results store."""

from __future__ import annotations

from dataclasses import dataclass

from checks.slo.openslo import SelectorSpec
from scenarios.journeys import known_steps


@dataclass(frozen=True)
class Selector:
    """Which step events count. ``negated`` (used when an SLI gives ``bad`` and ``total``) removes
    the events it selects: the good events are then ``total AND NOT bad``."""

    steps: frozenset[str]
    outcomes: frozenset[str] | None = None
    max_duration_ms: float | None = None
    channel: str | None = None
    negated: Selector | None = None

    def sql(self) -> str:
        """A SQL boolean expression (DuckDB) over the columns ``step``, ``outcome``,
        ``duration_ms`` and ``channel`` of the step events; a NULL column never counts as a match."""
        parts = [f"step IN ({_sql_list(self.steps)})"]
        if self.outcomes is not None:
            parts.append(f"outcome IN ({_sql_list(self.outcomes)})")
        if self.max_duration_ms is not None:
            parts.append(f"duration_ms <= {float(self.max_duration_ms)!r}")
        if self.channel is not None:
            parts.append(f"channel = {_sql_text(self.channel)}")
        if self.negated is not None:
            parts.append(f"NOT coalesce({self.negated.sql()}, FALSE)")
        return "(" + " AND ".join(parts) + ")"

    def durations(self) -> frozenset[float]:
        """Every duration ``sql()`` compares ``duration_ms`` with (``Results.ratios`` needs them)."""
        own = frozenset() if self.max_duration_ms is None else frozenset({float(self.max_duration_ms)})
        return own | (self.negated.durations() if self.negated is not None else frozenset())


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: frozenset[str]) -> str:
    return ", ".join(_sql_text(value) for value in sorted(values))


def from_spec(spec: SelectorSpec) -> Selector:
    """The selector with its step patterns expanded to concrete step names."""
    known = known_steps()
    steps: set[str] = set()
    for pattern in spec.steps:
        if pattern == "*":
            steps.update(known)
        elif pattern in known:
            steps.add(pattern)
        else:
            steps.update(step for step, definition in known.items() if definition.name == pattern)
    outcomes = frozenset(spec.outcomes) if spec.outcomes is not None else None
    return Selector(frozenset(steps), outcomes, spec.max_duration_ms, spec.channel)


def not_within(good: Selector, total: Selector) -> str:
    """Why ``good`` may count an event that ``total`` does not ("" when it cannot)."""
    if good.steps - total.steps:
        return f"it counts steps total does not: {', '.join(sorted(good.steps - total.steps))}"
    if total.outcomes is not None and (good.outcomes is None or good.outcomes - total.outcomes):
        return f"it counts outcomes total does not (total: {', '.join(sorted(total.outcomes))})"
    if total.max_duration_ms is not None and (good.max_duration_ms or float("inf")) > total.max_duration_ms:
        return f"it counts events longer than total's max_duration_ms {total.max_duration_ms}"
    if total.channel is not None and good.channel != total.channel:
        return f"it counts channels total does not (total: {total.channel})"
    return ""
