"""How a ledger firing is matched to a detection: the rule each defect declares (``checks.score``
applies it).

A rule names what the ledger and the detection must agree on: the object id, the platform's
applicant id, the time window, the route. Its ``how`` is the explanation copied into ``score.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


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


def during(what: str, *, route: bool = True) -> Rule:
    """A fault drawn on one request: it fired during the attempt that showed it."""
    on_route = ", on the route its message names" if route else ""
    return Rule(
        "by the session's platform applicant id (when the journey had logged in) and time: the firing happened "
        f"during the {what}{on_route}",
        applicant="session",
        window="attempt",
        route=route,
    )


# For a fault no declaration names (a firing the ledger holds for an id the harness does not know).
DEFAULT_RULE = during("failed attempt", route=False)
