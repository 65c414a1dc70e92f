"""The defects' SLOs, derived from each declaration's SLO hook: objectives of a defect's own (its
targets are our assumptions), and which step objectives count the defects that have none."""

from __future__ import annotations

from typing import Any

from checks.defects import DETECTORS, Defect, Objective
from checks.slo_catalogue.model import Slo, slug, source
from scenarios.journeys import known_steps


def ratio(objective: Objective) -> dict[str, Any]:
    """The indicator: ok (within a bound, if any) over all attempts; or the bad outcomes over all."""
    total = source(objective.steps)
    if objective.bad:
        return {"bad": source(objective.steps, outcomes=list(objective.bad)), "total": total}
    bound = {} if objective.within_ms is None else {"max_duration_ms": objective.within_ms}
    return {"good": source(objective.steps, outcomes=["ok"], **bound), "total": total}


def defect_slos() -> list[Slo]:
    """The objectives the declarations give the defects, in their place in the file."""
    owned = [(o, name) for name, declared in DETECTORS.items() if declared.slo for o in declared.slo.objectives]
    return [
        Slo(
            o.name,
            o.display_name,
            o.description,
            {"objective": "defect", "defect": name},
            o.sli,
            ratio(o),
            o.objective,
            o.target,
            o.comment,
        )
        for o, name in sorted(owned, key=lambda pair: pair[0].place)
    ]


def slo_names(declared: Defect) -> list[str]:
    """The names of the shipped SLOs that watch a defect: its own objectives, else the availability
    objectives of the steps its hook names (empty when it has no hook)."""
    hook = declared.slo
    if hook is None:
        return []
    counted = [f"{slug(step)}-availability" for step in known_steps() if hook.counted_by and step in hook.counted_by]
    return [o.name for o in hook.objectives] + counted
