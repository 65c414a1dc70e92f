"""The field types of OpenSLO v1 objects: names, label and annotation keys, durations, ratios, the
steps and outcomes a selector may name.

Each validator refuses with a whole sentence (what was expected, what was given), raised as a
``value_error`` so ``core.describe`` shows it verbatim.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from core.registry import suggest
from scenarios.events import Outcome
from scenarios.journeys import known_steps

API_VERSION = "openslo/v1"
HARNESS_SOURCE = "anef-harness"
OUTCOMES = tuple(outcome.value for outcome in Outcome)
_UNIT_SECONDS = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "M": 30 * 86400,
    "Q": 90 * 86400,
    "Y": 365 * 86400,
}

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_LABEL_KEY = re.compile(r"[a-zA-Z0-9]([-._a-zA-Z0-9]{0,61}[a-zA-Z0-9])?")
_ANNOTATION_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*/)?" + _LABEL_KEY.pattern
)
DURATION = re.compile(r"(\d+)([smhdwMQY])")
# PromQL has no month or quarter, and its ``y`` is 365 days: calendar units become days, as the
# OpenSLO Go SDK counts them (M = 30 d, Q = 90 d, Y = 365 d).
_PROMQL_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def problem(message: str) -> PydanticCustomError:
    """A validation error whose message is ``message`` verbatim (braces in it are not a template)."""
    return PydanticCustomError("value_error", "{message}", {"message": message})


def duration_seconds(shorthand: str) -> float:
    """Seconds in an OpenSLO duration shorthand (``5m``, ``1h``, ``30d``, ``1M``); calendar units
    count as the OpenSLO Go SDK counts them: M = 30 d, Q = 90 d, Y = 365 d."""
    match = DURATION.fullmatch(shorthand)
    if match is None:
        raise ValueError(f"not an OpenSLO duration: {shorthand!r}")
    return float(int(match[1]) * _UNIT_SECONDS[match[2]])


def promql_duration(shorthand: str) -> str:
    """The same duration as PromQL writes it, in the unit OpenSLO used when PromQL has it
    (``5m``, ``2w``), else in days (``1M`` → ``30d``, ``1Q`` → ``90d``, ``1Y`` → ``365d``)."""
    match = DURATION.fullmatch(shorthand)
    if match is None:
        raise ValueError(f"not an OpenSLO duration: {shorthand!r}")
    if match[2] in "smhdw":
        return shorthand
    return seconds_as_promql(duration_seconds(shorthand))


def seconds_as_promql(seconds: float) -> str:
    """A whole number of seconds in the largest PromQL unit that divides it (``150`` → ``150s``,
    ``7200`` → ``2h``); fractions of a second are rounded up."""
    whole = max(1, math.ceil(seconds))
    for unit, size in _PROMQL_UNITS:
        if whole % size == 0:
            return f"{whole // size}{unit}"
    raise AssertionError("unreachable: every whole number of seconds is a number of s")


def _name(value: str) -> str:
    if not _DNS_LABEL.fullmatch(value):
        raise problem(f"expected a name of lowercase letters, digits and '-', at most 63 (RFC 1123), got {value!r}")
    return value


def _label_key(value: str) -> str:
    if not _LABEL_KEY.fullmatch(value):
        raise problem(f"expected a label key of letters, digits, '-', '_' or '.', at most 63, got {value!r}")
    return value


def _annotation_key(value: str) -> str:
    if not _ANNOTATION_KEY.fullmatch(value):
        raise problem(f"expected an annotation key such as 'example.org/key', got {value!r}")
    return value


def _label_values(value: Any) -> list[str]:
    """OpenSLO label values are a string or a list of strings; kept as a list."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise problem(f"expected a string or a list of strings, got {value!r}")


def _duration(value: str) -> str:
    if not DURATION.fullmatch(value):
        raise problem(
            f"expected a duration such as 5m, 1h, 30d or 1M (a whole number, then s m h d w M Q or Y), got {value!r}"
        )
    return value


def _window(value: str) -> str:
    if int(_duration(value)[:-1]) == 0:
        raise problem(f"expected a window longer than zero, got {value!r}")
    return value


def _step_pattern(value: str) -> str:
    """A step name ``journey.step``, a journey name (all its steps) or ``*`` (every step)."""
    steps = known_steps()
    journeys = sorted({definition.name for definition in steps.values()})
    if value == "*" or value in steps or value in journeys:
        return value
    hint = suggest(value, [*steps, *journeys], listed=0) or (
        f"; expected 'journey.step', a journey ({', '.join(journeys)}) or '*' for every step"
    )
    raise problem(f"unknown {'step' if '.' in value else 'journey'} {value!r}{hint}")


def _outcome(value: str) -> str:
    if value not in OUTCOMES:
        raise problem(f"unknown outcome {value!r}{suggest(value, OUTCOMES, listed=len(OUTCOMES))}")
    return value


def _target_ratio(value: float) -> float:
    if not 0 < value < 1:
        why = " (OpenSLO targets are below 1: 100 % leaves no error budget)" if value >= 1 else ""
        raise problem(f"expected a ratio strictly between 0 and 1 such as 0.999 (99.9 %), got {value}{why}")
    return value


def _percent(value: float) -> float:
    if not 0 < value < 100:
        raise problem(f"expected a percentage strictly between 0 and 100 such as 99.9, got {value}")
    return value


Name = Annotated[str, AfterValidator(_name)]
Description = Annotated[str, Field(max_length=1050)]
Duration = Annotated[str, AfterValidator(_duration)]
Window = Annotated[str, AfterValidator(_window)]
Finite = Annotated[float, Field(allow_inf_nan=False, strict=True)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelValues = Annotated[list[str], BeforeValidator(_label_values)]
AnnotationKey = Annotated[str, AfterValidator(_annotation_key)]
StepPattern = Annotated[str, AfterValidator(_step_pattern)]
OutcomeName = Annotated[str, AfterValidator(_outcome)]
TargetRatio = Annotated[Finite, AfterValidator(_target_ratio)]
TargetPercent = Annotated[Finite, AfterValidator(_percent)]


def ref_or_inline(ref_key: str) -> Callable[[Any], str]:
    """A discriminator: the reference form when the mapping has ``ref_key``, else the inline object
    (so an error names the fields of the form the author meant, not of both)."""

    def tag(value: Any) -> str:
        return "@ref" if isinstance(value, Mapping) and ref_key in value else "@inline"

    return tag


def source_tag(value: Any) -> str:
    """A discriminator: the harness's own metric source, or another tool's."""
    return "@harness" if isinstance(value, Mapping) and value.get("type") == HARNESS_SOURCE else "@external"
